from pathlib import Path

import pytest

from mmi.config import load_settings
from schemas.errors import ConfigError

CONFIG = """
[store]
url = "sqlite:///var/mmi.db"
[sources.public_security]
url = "sqlite:///ps/ga.sqlite"
table = "ga_jzdj"
[sources.human_resources]
drop_dir = "hr"
[sources.statistics]
drop_dir = "/data/stats"
[sources.health]
base_url = "http://127.0.0.1:8701/"
token = "from-file"
page_size = 100
"""


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "mmi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path))
    assert settings.store_url == f"sqlite:///{tmp_path / 'var' / 'mmi.db'}"
    sources = settings.sources
    assert sources["public_security"].url == f"sqlite:///{tmp_path / 'ps' / 'ga.sqlite'}"
    assert sources["human_resources"].drop_dir == tmp_path / "hr"
    assert sources["statistics"].drop_dir == Path("/data/stats")
    assert sources["health"].base_url == "http://127.0.0.1:8701" and sources["health"].page_size == 100
    assert settings.configured_sources == ["public_security", "human_resources", "statistics", "health"]


def test_secrets_and_urls_can_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMI_HEALTH_TOKEN", "from-env")
    monkeypatch.setenv("MMI_STORE_URL", "postgresql+psycopg://mmi@db/mmi")
    settings = load_settings(write(tmp_path))
    assert settings.sources["health"].token == "from-env"
    assert settings.store_url == "postgresql+psycopg://mmi@db/mmi"


def test_the_config_path_may_come_from_mmi_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMI_CONFIG", str(write(tmp_path)))
    assert load_settings().config_path == tmp_path / "mmi.toml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sources.health]\nbase_url='x'\ntoken='t'", r"needs 'store.url'"),
        ("[store]\nurl='sqlite://'\n[sources.human_resources]\n", r"needs 'sources.human_resources.drop_dir'"),
        ("[store]\nurl='sqlite://'\n[sources.health]\nbase_url='x'", r"MMI_HEALTH_TOKEN"),
        ("[store\nurl=", r"not valid TOML"),
    ],
)
def test_config_errors_say_what_to_fix(tmp_path: Path, text: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMI_HEALTH_TOKEN", raising=False)
    monkeypatch.delenv("MMI_STORE_URL", raising=False)
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text))


def test_no_config_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMI_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="--config PATH or set MMI_CONFIG"):
        load_settings(None)
