"""Repository functions for signed-in dashboard sessions.

The cookie carries a random token; the store keeps its sha256 (the token has 256 random
bits, so a fast hash is enough), the session's CSRF token and when it expires. A session ends
when it expires, when its user is disabled or its API key revoked, or when its holder signs
out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ecoute.store.models import ApiKey, User, WebSession, utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """Who a session belongs to, as the dashboard needs it."""

    session_id: int
    name: str
    role: str
    authority_id: int | None
    csrf_token: str


def open_session(
    session: Session, *, lifetime: timedelta, user: User | None = None,
    api_key: ApiKey | None = None,
) -> str:
    """A new session of ``user`` or ``api_key``; returns the cookie's token."""
    if (user is None) == (api_key is None):
        raise ValueError("a session belongs to a user or to an API key")
    now = utcnow()
    # Expired sessions go when a new one opens: no job needed to keep the table small.
    session.execute(delete(WebSession).where(WebSession.expires_at < now)
                    .execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    session.add(WebSession(
        token_hash=_hash(token), user_id=user.id if user else None,
        api_key_id=api_key.id if api_key else None, csrf_token=secrets.token_urlsafe(32),
        created_at=now, expires_at=now + lifetime,
    ))
    session.flush()
    return token


def find_session(session: Session, token: str) -> SignedIn | None:
    """The live session of ``token``, or None (unknown, expired, user disabled, key
    revoked)."""
    if not token or len(token) > 100:
        return None
    found = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if found is None or found.expires_at <= utcnow():
        return None
    if found.user_id is not None:
        user = session.get(User, found.user_id)
        if user is None or user.disabled_at is not None:
            return None
        return SignedIn(found.id, user.username, user.role, user.authority_id,
                        found.csrf_token)
    key = session.get(ApiKey, found.api_key_id)
    if key is None or key.revoked_at is not None:
        return None
    name = f"{key.prefix}…" + (f" ({key.label})" if key.label else "")
    return SignedIn(found.id, name, key.role, key.authority_id, found.csrf_token)


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token))
                    .execution_options(synchronize_session=False))
