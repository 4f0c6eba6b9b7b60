"""Repository functions for API keys.

A token is ``ek_`` followed by 43 random URL-safe characters; it is shown once, at creation.
The store keeps its sha256 (a fast hash is enough: the token has 256 random bits, so there is
no dictionary to try) and its first 11 characters as a visible prefix.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.errors import InvalidRequest, NotFound
from ecoute.store.models import ApiKey, Authority, Role, utcnow

TOKEN_PREFIX = "ek_"
PREFIX_LENGTH = 11


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(
    session: Session, *, role: str, authority: Authority | None, label: str | None = None
) -> tuple[ApiKey, str]:
    """A new key and its token (the only time the token exists outside its holder)."""
    try:
        role = Role(role).value
    except ValueError:
        raise InvalidRequest(
            f"unknown role {role!r}", hint=f"roles: {', '.join(r.value for r in Role)}"
        ) from None
    if authority is None and role != Role.ADMIN:
        raise InvalidRequest(
            f"a {role} key must be scoped to an authority", hint="give --authority SLUG"
        )
    while True:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        prefix = token[:PREFIX_LENGTH]
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    key = ApiKey(prefix=prefix, key_hash=hash_token(token), role=role,
                 authority_id=authority.id if authority else None, label=label,
                 created_at=utcnow())
    session.add(key)
    session.flush()
    return key, token


def authenticate(session: Session, token: str) -> ApiKey | None:
    """The active key of ``token`` (its last use recorded), or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_token(token)))
    if key is None or key.revoked_at is not None:
        return None
    now = utcnow()
    # Minute resolution is plenty and spares a write on every request of a busy client.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        key.last_used_at = now
    return key


def list_keys(session: Session, authority_id: int | None = None) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if authority_id is not None:
        query = query.where(ApiKey.authority_id == authority_id)
    return list(session.scalars(query))


def revoke_key(session: Session, prefix: str) -> ApiKey:
    """Revoke the key whose visible prefix (or whole token) is given."""
    prefix = prefix.strip()[:PREFIX_LENGTH]
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(f"no API key {prefix!r}", hint="`ecoute keys list` shows the prefixes")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
