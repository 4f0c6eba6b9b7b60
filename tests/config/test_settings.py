from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from ecoute.config.settings import Settings, get_settings
from ecoute.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("ECOUTE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults_work_without_any_configuration() -> None:
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(
        "ecoute.db")
    assert settings.env == "dev" and settings.min_sample_size == 30


def test_environment_then_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "ecoute.toml").write_text('min_sample_size = 50\nlog_level = "DEBUG"\n',
                                          encoding="utf-8")
    monkeypatch.setenv("ECOUTE_MIN_SAMPLE_SIZE", "40")
    settings = Settings()
    assert (settings.min_sample_size, settings.log_level) == (40, "DEBUG")


def test_named_config_file_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ECOUTE_CONFIG_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        Settings()


def test_postgres_url_gets_the_shipped_driver() -> None:
    settings = Settings(database_url="postgresql://ecoute@db/ecoute")
    assert settings.database_url == "postgresql+psycopg://ecoute@db/ecoute"
    with pytest.raises(ValidationError, match="only sqlite"):
        Settings(database_url="mysql://x@y/z")


def test_production_refuses_the_development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="ECOUTE_PSEUDONYM_KEY"):
        Settings(env="prod")
    assert Settings(env="prod", pseudonym_key="a-real-secret-of-24-chars").env == "prod"
    monkeypatch.setenv("ECOUTE_ENV", "prod")
    with pytest.raises(ConfigError, match="ECOUTE_PSEUDONYM_KEY"):
        get_settings()


def test_production_refuses_an_empty_pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOUTE_ENV", "prod")
    monkeypatch.setenv("ECOUTE_PSEUDONYM_KEY", "  ")
    with pytest.raises(ConfigError, match="ECOUTE_PSEUDONYM_KEY is empty"):
        get_settings()


def test_configured_redaction_patterns_must_be_re2() -> None:
    assert Settings(redact_patterns={"CLIENT": r"CL-\d{6}"}).redact_patterns == {
        "CLIENT": r"CL-\d{6}"}
    with pytest.raises(ValidationError, match="not valid RE2 syntax"):
        Settings(redact_patterns={"CLIENT": r"(a+)\1"})  # a backreference can backtrack
    with pytest.raises(ValidationError, match="not a usable placeholder name"):
        Settings(redact_patterns={"PHONE": r"x"})


def test_shown_settings_hide_the_mail_secrets() -> None:
    shown = Settings(digest_secret="unsubscribe-links-key", smtp_password="mail pass",
                     database_url="postgresql+psycopg://ecoute:db-pass@db/ecoute").shown()
    assert (shown["digest_secret"], shown["smtp_password"]) == ("(hidden)", "(hidden)")
    assert "db-pass" not in str(shown) and "mail pass" not in str(shown)
    assert Settings().shown()["smtp_password"] is None  # nothing to hide
