"""Repository functions for dashboard users: accounts with an argon2 password hash.

Passwords are hashed with argon2id (argon2-cffi's defaults: memory-hard, so that a stolen
table costs an attacker memory as well as time per guess). A sign-in with an unknown
username still computes one hash, so that the answer time does not say which usernames exist.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.errors import InvalidRequest, UserExists, UserNotFound
from ecoute.store.models import Authority, Role, User, utcnow
from ecoute.store.signin_attempts import forget_username_failures

#: Shorter passwords are refused (NIST SP 800-63B asks for at least 8; a public body's
#: dashboard shows personal opinions, so a little more).
MIN_PASSWORD_LENGTH = 10
#: Longer ones are refused too: hashing megabytes on every sign-in attempt is a way to tire
#: the server.
MAX_PASSWORD_LENGTH = 1024
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
#: People read; an ingest role only pushes data and has no use for the dashboard.
USER_ROLES = (Role.ADMIN, Role.OFFICER, Role.VIEWER)

_hasher = PasswordHasher()
#: Verified against when the username is unknown, so both answers take as long.
_UNKNOWN_USER_HASH = _hasher.hash("no such user, but the same work")


def check_password(password: str) -> None:
    """Refuse a password too short or too long to be used, saying what to choose."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"the password has {len(password)} characters; it needs at least "
            f"{MIN_PASSWORD_LENGTH}",
            hint="a few unrelated words make a long password that is easy to remember",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidRequest(f"the password is longer than {MAX_PASSWORD_LENGTH} characters",
                             hint="choose a shorter one")


def _role(role: str) -> str:
    try:
        value = Role(role)
    except ValueError:
        value = None
    if value not in USER_ROLES:
        raise InvalidRequest(f"{role!r} is not a role a person can have",
                             hint="roles: admin, officer (reads and corrects) or viewer (reads)")
    return value.value


def create_user(
    session: Session, *, username: str, password: str, role: str,
    authority: Authority | None,
) -> User:
    """A new account; its password is only kept hashed."""
    username = username.strip()
    if not USERNAME.match(username):
        raise InvalidRequest(
            f"{username!r} is not a usable username",
            hint="use 1 to 100 letters, digits and . _ @ -, starting with a letter or digit",
        )
    role = _role(role)
    if authority is None and role != Role.ADMIN:
        raise InvalidRequest(f"a {role} must belong to an authority", hint="give --authority SLUG")
    check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserExists(f"a user named {username!r} already exists",
                         hint="choose another name, or `ecoute users password` to reset it")
    user = User(username=username, password_hash=_hasher.hash(password), role=role,
                authority_id=authority.id if authority else None, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise UserNotFound(f"no user {username!r}", hint="`ecoute users list` shows them")
    return user


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password (its sign-in recorded), or None."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    user = session.scalar(select(User).where(User.username == username.strip()))
    stored = user.password_hash if user is not None else _UNKNOWN_USER_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        # Parameters raised since the hash was made: the password is at hand only now.
        user.password_hash = _hasher.hash(password)
    user.last_signed_in_at = utcnow()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    """A new password; it also lifts a lock of the username after failed sign-ins (the
    administrator who sets it vouches for the person)."""
    check_password(password)
    user = get_user(session, username)
    user.password_hash = _hasher.hash(password)
    forget_username_failures(session, user.username)
    return user


def list_users(session: Session, authority_id: int | None = None) -> list[User]:
    query = select(User).order_by(User.username)
    if authority_id is not None:
        query = query.where(User.authority_id == authority_id)
    return list(session.scalars(query))


def disable_user(session: Session, username: str) -> User:
    """The user can no longer sign in; their open sessions end at their next request."""
    user = get_user(session, username)
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    return user
