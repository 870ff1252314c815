"""The `jurisdiction` claim: district prefixes a token reaches (absent: everywhere), from `mmi token --jurisdiction`."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmi.api import api_settings, create_keys
from mmi.api.auth import KeySet, Unauthorized, parse_jurisdiction, verify_token
from mmi.config import load_settings
from mmi.principal import Principal
from tests.mmi.api.tokens import claims, signed
from tests.mmi.exchange.test_failpoints import write_config
from tests.mmi.test_cli_exchange import mmi


def test_the_claim_is_a_list_of_prefixes_or_absent() -> None:
    assert parse_jurisdiction(None) is None
    assert parse_jurisdiction(["4101", "44"]) == ("4101", "44")
    assert parse_jurisdiction("4101, 4102") == ("4101", "4102")
    for bad in ([], "", ["41x"], ["1234567"], [4101], {"4101": True}):
        with pytest.raises(ValueError):
            parse_jurisdiction(bad)


def test_a_principal_covers_districts_under_its_prefixes() -> None:
    local = Principal("s", "steward", ("4101", "44"))
    assert local.covers("410105") and local.covers("440305") and not local.covers("420112") and not local.covers(None)
    assert Principal("s", "steward").covers(None) and Principal("s", "steward").covers("110101")


def test_tokens_carry_the_claim_and_a_malformed_one_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'mmi.db'}")
    api = api_settings(load_settings(config))
    create_keys(api)
    keys = KeySet(api.jwks)
    assert verify_token(signed(api, claims(api, role="steward", jurisdiction=["4101"])), keys, api).jurisdiction == ("4101",)
    assert verify_token(signed(api, claims(api, role="steward")), keys, api).jurisdiction is None
    for bad in ([], ["not-digits"], "41;DROP"):
        with pytest.raises(Unauthorized, match="jurisdiction"):
            verify_token(signed(api, claims(api, role="steward", jurisdiction=bad)), keys, api)


def test_mmi_token_takes_a_jurisdiction(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'mmi.db'}")
    made = mmi("token", "--config", str(config), "--role", "steward", "--subject", "li", "--jurisdiction", "4101,4102")
    assert made.returncode == 0, made.stderr
    api = api_settings(load_settings(config))
    principal = verify_token(made.stdout.strip().splitlines()[-1], KeySet(api.jwks), api)
    assert (principal.subject, principal.role, principal.jurisdiction) == ("li", "steward", ("4101", "4102"))
    refused = mmi("token", "--config", str(config), "--role", "steward", "--subject", "li", "--jurisdiction", "Henan")
    assert refused.returncode == 2 and "--jurisdiction" in refused.stderr
