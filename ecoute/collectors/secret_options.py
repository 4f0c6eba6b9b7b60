"""Secret source options: one convention, masked everywhere they could be shown.

A collector declares an option secret by typing it ``SecretStr`` (``SecretStr | None``) in its
``Options``: Mastodon's ``access_token``, Open311's ``api_key``. Then:

- the stored options keep the real value (:func:`stored_options`), since the collector needs it;
- every answer that shows options (``GET /api/v1/sources``, ``ecoute sources list --json``)
  shows :data:`MASK` instead (:func:`masked_options`), whatever the role of the reader;
- error texts stored in ``last_error`` / ``run.error`` or quarantine reasons and log lines pass
  through :func:`scrub`, which replaces the values (and their URL-encoded forms) by the mask.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, SecretStr

#: What is shown in place of a secret value.
MASK = "********"


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_secret(arg) for arg in typing.get_args(annotation))
    return False


def secret_fields(options_cls: type[BaseModel]) -> frozenset[str]:
    """Names of the options of ``options_cls`` typed ``SecretStr``."""
    return frozenset(
        name for name, info in options_cls.model_fields.items() if _is_secret(info.annotation)
    )


def stored_options(validated: BaseModel, *, exclude_unset: bool = True) -> dict[str, Any]:
    """The options as JSON for the database, secrets in clear (the collector reads them)."""
    data = validated.model_dump(mode="json", exclude_unset=exclude_unset)
    for name in secret_fields(type(validated)):
        value = getattr(validated, name, None)
        if name in data and isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
    return data


def masked_options(options_cls: type[BaseModel] | None, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with every secret one replaced by :data:`MASK` (unknown kind: all kept but
    values of keys that look like credentials)."""
    names = secret_fields(options_cls) if options_cls is not None else frozenset()
    return {
        key: MASK if value not in (None, "") and (key in names or _looks_secret(key)) else value
        for key, value in options.items()
    }


def _looks_secret(key: str) -> bool:
    # A kind no longer installed still shows its stored options: guess by name there.
    lowered = key.lower()
    return any(word in lowered for word in ("token", "secret", "password", "api_key", "apikey"))


def secret_values(options_cls: type[BaseModel] | None, options: dict[str, Any]) -> list[str]:
    """The secret values among stored ``options`` (as strings), longest first."""
    names = secret_fields(options_cls) if options_cls is not None else frozenset()
    values = {
        str(value) for key, value in options.items()
        if value not in (None, "") and (key in names or _looks_secret(key))
    }
    return sorted(values, key=len, reverse=True)


def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """``text`` with every secret (as typed, or URL-encoded as in a query string) masked."""
    if not text:
        return text
    for secret in secrets:
        if len(secret) < 4:
            continue  # masking "a" everywhere would garble the message, not protect anything
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, MASK)
    return text


def _options_class(kind: str) -> type[BaseModel] | None:
    from ecoute.collectors.registry import get_collector
    from ecoute.errors import EcouteError

    try:
        return get_collector(kind).Options
    except EcouteError:
        return None  # a kind no longer installed


def source_secrets(kind: str, options: dict[str, Any]) -> list[str]:
    """The secret values in the stored options of a ``kind`` source."""
    return secret_values(_options_class(kind), options)


def shown_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """The stored options of a ``kind`` source as any reader may see them."""
    return masked_options(_options_class(kind), options)
