"""Dashboard users and their sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.errors import InvalidRequest, UserExists
from ecoute.store.api_keys import create_key, revoke_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import User, WebSession
from ecoute.store.users import (
    authenticate_password,
    create_user,
    disable_user,
    set_password,
)
from ecoute.store.web_sessions import close_session, find_session, open_session

PASSWORD = "une phrase assez longue"


def test_password_is_stored_as_argon2_and_checked(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        town = ensure_authority(session, "valmont")
        create_user(session, username="marie", password=PASSWORD, role="officer",
                    authority=town)
    with session_scope(factory) as session:
        stored = session.scalar(select(User.password_hash))
        assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
        user = authenticate_password(session, "marie", PASSWORD)
        assert user is not None and user.last_signed_in_at is not None
        assert authenticate_password(session, "marie", PASSWORD.upper()) is None
        assert authenticate_password(session, "nobody", PASSWORD) is None
        set_password(session, "marie", "a brand new passphrase")
        assert authenticate_password(session, "marie", PASSWORD) is None
        disable_user(session, "marie")
        assert authenticate_password(session, "marie", "a brand new passphrase") is None


def test_refused_accounts(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        town = ensure_authority(session, "valmont")
        with pytest.raises(InvalidRequest, match="at least 10"):
            create_user(session, username="a", password="short", role="viewer", authority=town)
        with pytest.raises(InvalidRequest, match="usable username"):
            create_user(session, username="<b>", password=PASSWORD, role="viewer",
                        authority=town)
        with pytest.raises(InvalidRequest, match="belong to an authority"):
            create_user(session, username="a", password=PASSWORD, role="officer",
                        authority=None)
        create_user(session, username="root", password=PASSWORD, role="admin", authority=None)
        with pytest.raises(UserExists):
            create_user(session, username="root", password=PASSWORD, role="admin",
                        authority=None)


def test_sessions_end_on_expiry_sign_out_disable_and_revocation(
    factory: sessionmaker[Session],
) -> None:
    with session_scope(factory) as session:
        town = ensure_authority(session, "valmont")
        user = create_user(session, username="marie", password=PASSWORD, role="officer",
                           authority=town)
        key, _token = create_key(session, role="viewer", authority=town, label="accueil")
        by_password = open_session(session, lifetime=timedelta(hours=1), user=user)
        by_key = open_session(session, lifetime=timedelta(hours=1), api_key=key)
        expired = open_session(session, lifetime=timedelta(seconds=-1), user=user)
        signed_out = open_session(session, lifetime=timedelta(hours=1), user=user)
        key_prefix = key.prefix
    with session_scope(factory) as session:
        found = find_session(session, by_password)
        assert found is not None and (found.name, found.role) == ("marie", "officer")
        assert found.authority_id is not None and len(found.csrf_token) > 30
        keyed = find_session(session, by_key)
        assert keyed is not None and keyed.role == "viewer" and "accueil" in keyed.name
        assert find_session(session, expired) is None
        assert find_session(session, "made-up") is None
        close_session(session, signed_out)
        assert find_session(session, signed_out) is None
        # The cookie's token is not what the store keeps.
        assert session.scalar(select(WebSession.id).where(
            WebSession.token_hash == by_password)) is None
        revoke_key(session, key_prefix)
        assert find_session(session, by_key) is None
        disable_user(session, "marie")
        assert find_session(session, by_password) is None
