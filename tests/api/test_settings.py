"""Settings from defaults, the environment (EEKG_*), a TOML file, and explicit values."""

from __future__ import annotations

import pytest

from api.settings import Settings
from kg.errors import GeoKGError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("EEKG_"):
            monkeypatch.delenv(name)


def test_defaults():
    settings = Settings.load()
    assert settings.store is None and settings.query_timeout == 30
    assert settings.max_request_bytes == 16 * 1024 * 1024
    assert settings.writer_keys == [] and settings.reading_is_open


def test_priority_explicit_over_environment_over_file(tmp_path, monkeypatch):
    config = tmp_path / "eekg.toml"
    config.write_text('store = "/data/kg"\nwriter_keys = ["from-file"]\nquery_timeout = 5\nport = 9000\n')
    monkeypatch.setenv("EEKG_QUERY_TIMEOUT", "7")
    monkeypatch.setenv("EEKG_READER_KEYS", "r1, r2")
    settings = Settings.load(config, port=9100)
    assert str(settings.store) == "/data/kg" and settings.writer_keys == ["from-file"]
    assert settings.query_timeout == 7 and settings.reader_keys == ["r1", "r2"] and settings.port == 9100


def test_config_file_from_environment(tmp_path, monkeypatch):
    config = tmp_path / "eekg.toml"
    config.write_text("[eekg]\nmax_request_bytes = 1024\n")
    monkeypatch.setenv("EEKG_CONFIG", str(config))
    assert Settings.load().max_request_bytes == 1024


def test_unknown_setting_in_file_is_named(tmp_path):
    config = tmp_path / "eekg.toml"
    config.write_text("query_timeot = 5\n")
    with pytest.raises(GeoKGError, match="query_timeot"):
        Settings.load(config)


def test_broken_toml_and_missing_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("store = \n")
    with pytest.raises(GeoKGError, match="not valid TOML"):
        Settings.load(broken)
    with pytest.raises(GeoKGError, match="Cannot read"):
        Settings.load(tmp_path / "missing.toml")


def test_keys_are_not_shown():
    assert "secret" not in repr(Settings.load(writer_keys=["secret"], reader_keys=["secret"]))
