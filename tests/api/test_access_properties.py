"""Access rules as properties, over random keys, roles, authorities and endpoints: a key never
reads another authority's data, never changes it, and a role that only reads never writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.collectors.service import add_source
from ecoute.config.settings import Settings
from ecoute.store.api_keys import create_key, revoke_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import make_session_factory, session_scope
from ecoute.store.models import Authority, DeterminantTag, Item, Source

AUTHORITIES = ("valmont", "autreville")
ROLES = ("admin", "officer", "viewer", "ingest")
#: Roles allowed to do each kind of write; every other role must be refused.
WRITERS = {"ingest": {"ingest", "admin"}, "upload": {"ingest", "admin"},
           "correct": {"officer", "admin"}}


@dataclass(frozen=True)
class Key:
    token: str | None
    role: str | None  # None: no key, an unknown token or a revoked key
    authority: str | None  # None: an installation-wide admin key, or no valid key


@dataclass
class World:
    client: TestClient
    factory: sessionmaker[Session]
    keys: list[Key]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Two authorities with items and a file source each; a key of every role in each, an
    installation admin, a revoked key, an unknown token and no key. Anonymous reads are off,
    as in production. One database for all examples: what they write accumulates, which is
    what the properties must survive."""
    from ecoute.store.db import make_engine, upgrade

    tmp = tmp_path_factory.mktemp("access")
    engine: Engine = make_engine(f"sqlite:///{tmp / 'access.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    keys = [Key(None, None, None), Key("ek_" + "x" * 43, None, None)]
    with session_scope(factory) as session:
        for slug in AUTHORITIES:
            authority = ensure_authority(session, slug)
            for role in ROLES:
                keys.append(Key(create_key(session, role=role, authority=authority)[1], role,
                                slug))
            add_source(session, authority=slug, name="registre", kind="complaint_log",
                       options={"path": str(tmp / slug)})
            revoked, token = create_key(session, role="admin", authority=authority)
            revoke_key(session, revoked.prefix)
            keys.append(Key(token, None, None))
        keys.append(Key(create_key(session, role="admin", authority=None)[1], "admin", None))
    settings = Settings(database_url=str(engine.url), data_dir=tmp / "data",
                        cache_dir=tmp / "cache", api_anonymous_read=False)
    client = TestClient(create_app(settings, engine), raise_server_exceptions=False)
    for key in keys:
        if key.role == "ingest":
            response = client.post("/api/v1/ingest", headers={"X-API-Key": key.token or ""},
                                   json=[{"external_id": f"{key.authority}-{n}",
                                          "text": f"Avis {n} sur l'accueil de {key.authority}"}
                                         for n in range(3)])
            assert response.status_code == 200, response.text
    return World(client, factory, keys)


def _owners(factory: sessionmaker[Session]) -> tuple[dict[int, str], dict[int, str]]:
    """Authority slug of every item and of every source."""
    with session_scope(factory) as session:
        items = {i: slug for i, slug in session.execute(select(Item.id, Authority.slug).join(
            Authority, Item.authority_id == Authority.id))}
        sources = {i: slug for i, slug in session.execute(select(Source.id, Authority.slug).join(
            Authority, Source.authority_id == Authority.id))}
    return items, sources


def _state(factory: sessionmaker[Session], slug: str) -> tuple[int, int, int]:
    """What a write to ``slug`` changes: its items, its item texts, its human tags."""
    with session_scope(factory) as session:
        authority = session.scalars(select(Authority).where(Authority.slug == slug)).one()
        items = session.scalar(select(func.count(Item.id)).where(
            Item.authority_id == authority.id)) or 0
        texts = hash(tuple(session.scalars(select(Item.text).where(
            Item.authority_id == authority.id).order_by(Item.id))))
        tags = session.scalar(select(func.count(DeterminantTag.id)).join(Item).where(
            Item.authority_id == authority.id, DeterminantTag.provenance == "human")) or 0
    return items, texts, tags


def _request(world: World, key: Key, action: str, authority: str | None, target: int,
             text: str) -> tuple[str, Any]:
    """Send one request; (what it was about, response)."""
    headers = {"Authorization": f"Bearer {key.token}"} if key.token else {}
    params = {"authority": authority} if authority else {}
    client = world.client
    if action == "list_items":
        return "items", client.get("/api/v1/items", params=params, headers=headers)
    if action == "list_by_source":
        return "items", client.get("/api/v1/items", params={**params, "source_id": target},
                                   headers=headers)
    if action == "one_item":
        return "item", client.get(f"/api/v1/items/{target}", params=params, headers=headers)
    if action == "sources":
        return "sources", client.get("/api/v1/sources", params=params, headers=headers)
    if action == "satisfaction":
        return "satisfaction", client.get("/api/v1/satisfaction", params=params,
                                          headers=headers)
    if action == "ingest":
        return "ingest", client.post("/api/v1/ingest", params=params, headers=headers, json=[
            {"external_id": f"p-{target}", "text": text}])
    if action == "upload":
        return "upload", client.post(
            f"/api/v1/sources/{target}/upload", params=params, headers=headers,
            files={"file": ("r.csv", f"id;texte\nu{target};{text}\n".encode(), "text/csv")})
    return "correct", client.put(f"/api/v1/items/{target}/determinants/courtesy",
                                 params=params, headers=headers, json={"polarity": "negative"})


ACTIONS = ("list_items", "list_by_source", "one_item", "sources", "satisfaction", "ingest",
           "upload", "correct")


@hypothesis_settings(max_examples=100, deadline=None, database=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key_index=st.integers(min_value=0, max_value=20), action=st.sampled_from(ACTIONS),
       authority=st.sampled_from((None, *AUTHORITIES, "inconnue")),
       target=st.integers(min_value=1, max_value=12),
       text=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00;\n\r"),
                    min_size=1, max_size=40).filter(str.strip))
def test_no_key_reads_or_changes_another_authority_and_readers_never_write(
    world: World, key_index: int, action: str, authority: str | None, target: int, text: str
) -> None:
    key = world.keys[key_index % len(world.keys)]
    before = {slug: _state(world.factory, slug) for slug in AUTHORITIES}
    what, response = _request(world, key, action, authority, target, text)
    status = response.status_code
    assert status < 500, response.text
    after = {slug: _state(world.factory, slug) for slug in AUTHORITIES}
    changed = {slug for slug in AUTHORITIES if before[slug] != after[slug]}

    if key.role is None:  # no key, an unknown or a revoked one: nothing at all
        assert status == 401 and not changed, response.text
        return
    # The authority a scoped key acts on is its own; an installation key chooses one.
    acting = key.authority or authority or Settings.model_fields["default_authority"].default
    if what in WRITERS:
        if key.role not in WRITERS[what]:
            assert status in (401, 403) and not changed, (key.role, what, response.text)
        if key.authority is not None:  # an installation admin may write anywhere
            assert changed <= {key.authority}, (key, what, changed)
        return
    if key.role == "ingest":  # writes only
        assert status == 403, response.text
        return
    if status != 200:
        return
    items, sources = _owners(world.factory)
    body = response.json()
    if what == "items":
        assert {items[i["id"]] for i in body["items"]} <= {acting}, (key, body)
    elif what == "item":
        assert items[body["id"]] == acting, (key, body)
    elif what == "sources":
        assert {sources[s["id"]] for s in body} <= {acting}, (key, body)
    else:
        assert body["authority"] == acting, (key, body)
