"""Who may read and write: API keys, users, dashboard sessions, failed sign-ins."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ecoute.store.models.base import Base, enum_type, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything of its authority (of all, when the key has no authority)
    OFFICER = "officer"  # reads and corrects (quality officer)
    VIEWER = "viewer"  # reads
    INGEST = "ingest"  # pushes items and uploads files, reads nothing


class ApiKey(Base):
    """An API key: only the sha256 of the token is stored; ``prefix`` lets people tell keys
    apart in lists and logs without revealing them."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(enum_type(Role, 16))
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class User(Base):
    """A person who signs in to the dashboard with a username and a password. Only the
    password's argon2 hash is stored; roles and the authority scope mean what they mean for
    an API key (``Role``; no authority: an installation admin)."""

    __tablename__ = "users"  # "user" is a reserved word in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(enum_type(Role, 16))
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in dashboard session, opened with a password (``user_id``) or an API key
    (``api_key_id``). The cookie holds a random token and the store its sha256, so that a
    copy of the database opens no session; ``csrf_token`` is what the session's forms must
    send back."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SigninFailure(Base):
    """One failed sign-in (a wrong password, an unknown API key), kept while it can still
    count towards a lock (``ecoute.store.signin_attempts``). ``subject`` is a sha256 of what
    was tried against (``user:<name>`` or ``address:<client address>``), never the name or
    the address itself: a username field often receives a password typed one field too
    early. In the database, not in a process, so that every worker sees every failure."""

    __tablename__ = "signin_failure"
    __table_args__ = (Index("ix_signin_failure_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
