from pathlib import Path
from typing import Any

import pytest

from mmi.config import settings_from_dict
from mmi.exchange import exchange_settings
from schemas.errors import ConfigError

GOOD = {"department": "health", "jurisdiction": ["4101"], "fields": ["sex", "name"]}


def settings(subscribers: dict[str, Any], **exchange: Any) -> Any:
    raw = {"store": {"url": "sqlite:///var/mmi.db"}, "subscribers": subscribers, "exchange": exchange}
    return exchange_settings(settings_from_dict(raw, Path("/data/mmi.toml")))


def test_a_subscription_is_read_with_fields_in_schema_order() -> None:
    read = settings({"zz-health": GOOD}, out_dir="out")
    subscription = read.subscriptions["zz-health"]
    assert subscription.fields == ("name", "sex") and subscription.jurisdiction == ("4101",)
    assert read.out_dir == Path("/data/out")
    assert subscription.covers("410105") and not subscription.covers("411000") and not subscription.covers(None)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"fields": ["name", "salary", "religion"]}, r"unknown golden fields \['salary', 'religion'\]"),
        ({"fields": []}, "needs fields"),
        ({"department": "tax"}, "department = 'tax'"),
        ({"jurisdiction": ["41x"]}, r"jurisdiction \['41x'\]"),
        ({"jurisdiction": 4101}, "needs jurisdiction"),
        ({"colour": "red"}, r"unknown keys \['colour'\]"),
    ],
)
def test_a_wrong_subscription_says_what_to_fix(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        settings({"zz-health": GOOD | change})
    assert "[subscribers.zz-health]" in str(raised.value)


def test_names_and_exchange_values_are_checked() -> None:
    with pytest.raises(ConfigError, match="lower-case"):
        settings({"Bad Name": GOOD})
    with pytest.raises(ConfigError, match="max_events"):
        settings({}, max_events=0)
    with pytest.raises(ConfigError, match="unknown keys"):
        settings({}, folder="x")
