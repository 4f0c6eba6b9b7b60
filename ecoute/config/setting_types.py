"""What the settings class uses besides its fields: default locations, the checks its
validators run, and the reading of the configuration sources.

``Settings`` (``ecoute.config.settings``) stays the one documented list of settings; its
validators call these functions so that the class reads as that list.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, TomlConfigSettingsSource

from ecoute.domain import Channel
from ecoute.errors import ConfigError

#: Used only in ``env = "dev"``; production refuses it so that pseudonyms cannot be reversed
#: by anyone who read this source file.
DEV_PSEUDONYM_KEY = "ecoute-dev-pseudonym-key-change-me"
#: A shorter key can be guessed by trying every value: pseudonyms would be reversible.
MIN_PSEUDONYM_KEY_LENGTH = 16


def default_database_url() -> str:
    path = Path(user_data_dir("ecoute", appauthor=False)) / "ecoute.db"
    return f"sqlite:///{path}"


def default_data_dir() -> Path:
    return Path(user_data_dir("ecoute", appauthor=False)) / "files"


def default_cache_dir() -> Path:
    return Path(user_cache_dir("ecoute", appauthor=False))


def config_sources(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
    dotenv_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """Keyword arguments, environment, ``.env``, then the TOML file of ``ECOUTE_CONFIG_FILE``
    (``ecoute.toml`` in the working directory when it exists), highest priority first."""
    toml_file = Path(os.environ.get("ECOUTE_CONFIG_FILE", "ecoute.toml"))
    sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
    if toml_file.is_file():
        sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
    elif "ECOUTE_CONFIG_FILE" in os.environ:
        raise ConfigError(
            f"configuration file {toml_file} does not exist",
            hint="fix ECOUTE_CONFIG_FILE or create the file",
        )
    return tuple(sources)


def split_commas(value: object) -> object:
    """A comma-separated environment value as a list (a TOML list passes unchanged)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def split_paths(value: object) -> object:
    """An ``os.pathsep``-separated environment value as a list (a TOML list passes unchanged)."""
    if isinstance(value, str):
        return [part for part in value.split(os.pathsep) if part.strip()]
    return value


def known_channels(value: list[str]) -> list[str]:
    known = {c.value for c in Channel}
    unknown = [name for name in value if name not in known]
    if unknown:
        raise ValueError(f"unknown channel {', '.join(unknown)}; channels: "
                         f"{', '.join(sorted(known))}")
    return value


def promise_days(value: dict[str, int]) -> dict[str, int]:
    wrong = sorted(slug for slug, days in value.items() if not 0 <= days <= 365)
    if wrong:
        raise ValueError(f"response_promise_by_authority: days must be 0 to 365, not for "
                         f"{', '.join(wrong)}")
    return value


def kept_days(value: dict[str, int]) -> dict[str, int]:
    negative = sorted(kind for kind, days in value.items() if days < 0)
    if negative:
        raise ValueError(
            f"retention_days_by_kind: days must be 0 (keep) or more, not negative for "
            f"{', '.join(negative)}"
        )
    return value


def database_url(value: str) -> str:
    """``value`` checked as a database URL, with the driver ecoute ships."""
    if not value.startswith(("sqlite", "postgresql")):
        raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
    if value.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        value = "postgresql+psycopg://" + value[len("postgresql://") :]
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    # A typo (a port that is not a number, a stray character) is caught here, as one
    # readable line, instead of as a traceback at the first connection.
    try:
        make_url(value)
    except (ArgumentError, ValueError) as exc:
        raise ValueError(f"{value.split('@')[-1]!r} is not a database URL ({exc}); "
                         "e.g. postgresql+psycopg://user@host:5432/db") from None
    return value


def linear_patterns(value: dict[str, str]) -> dict[str, str]:
    import re2  # RE2 refuses what cannot run in linear time (backreferences, lookarounds)

    from ecoute.pii import KINDS, compile_pattern

    for name, pattern in value.items():
        if not name or not name.replace("_", "").isalnum() or name.upper() in KINDS:
            raise ValueError(
                f"redact_patterns: {name!r} is not a usable placeholder name; use letters, "
                f"digits and _ other than {', '.join(KINDS)}"
            )
        try:
            compile_pattern(pattern)
        except re2.error as exc:
            raise ValueError(
                f"redact_patterns: the pattern of {name} is not valid RE2 syntax ({exc}); "
                "lookarounds and backreferences are not available"
            ) from exc
    return value


def check_pseudonym_key(env: str, key: str) -> None:
    """Refuse, in production, a pseudonym key anyone could know or guess."""
    if env != "prod":
        return
    if not key.strip():
        raise ValueError(
            "ECOUTE_PSEUDONYM_KEY is empty: set it to a secret of your own when ECOUTE_ENV=prod"
        )
    if key == DEV_PSEUDONYM_KEY:
        raise ValueError(
            "ECOUTE_PSEUDONYM_KEY must be set to a secret of your own when ECOUTE_ENV=prod"
        )
    if len(key) < MIN_PSEUDONYM_KEY_LENGTH:
        raise ValueError(
            f"ECOUTE_PSEUDONYM_KEY is too short ({len(key)} characters): "
            f"use at least {MIN_PSEUDONYM_KEY_LENGTH} random characters, e.g. the output "
            "of `python -c \"import secrets; print(secrets.token_urlsafe(32))\"`"
        )


def check_webhook_secret(url: str | None, secret: str | None) -> None:
    """Refuse a webhook for the volunteers' calls whose receiver could not check them."""
    if url and not (secret or "").strip():
        raise ValueError(
            "ECOUTE_BACKUP_WEBHOOK_URL is set without ECOUTE_BACKUP_WEBHOOK_SECRET: set a "
            "secret shared with the receiver, which checks the calls' signature with it"
        )


def hide_password(url: str) -> str:
    """``url`` with the password of its user part replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
