"""``/api/v1/digests``: subscriptions for admin keys of their own authority, the preview for
readers, and the signed unsubscribe page that works without a key."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.digest.tokens import signing_key, unsubscribe_token
from ecoute.store.db import session_scope
from ecoute.store.models import DigestLog, DigestSubscription
from tests.helpers.api import auth as _auth
from tests.digest.test_compose import HOSTILE, W47
from tests.helpers.digest_data import authority, feedback, source

SUBSCRIPTIONS = "/api/v1/digests/subscriptions"


def _weekly_subscription(session: Session) -> DigestSubscription:
    """m@valmont.example's weekly digest in French, Mondays at 8, flushed (it has an id)."""
    sub = DigestSubscription(authority_id=authority(session).id, email="m@valmont.example",
                             locale="fr", frequency="weekly", weekday=0, hour=8,
                             token_salt="s" * 32)
    session.add(sub)
    session.flush()
    return sub


def test_admins_manage_their_authority_s_subscriptions(
        client: TestClient, keys: dict[str, str]) -> None:
    body = {"email": "dgs@valmont.example", "language": "en", "weekday": "friday", "hour": 17}
    created = client.post(SUBSCRIPTIONS, json=body, headers=_auth(keys["admin"]))
    assert created.status_code == 201, created.text
    got = created.json()
    assert (got["email"], got["language"], got["weekday"], got["hour"], got["frequency"]) == (
        "dgs@valmont.example", "en", "friday", 17, "weekly")
    again = client.post(SUBSCRIPTIONS, json=body, headers=_auth(keys["admin"]))
    assert again.status_code == 409 and "already receives" in again.json()["detail"]
    for role in ("viewer", "officer"):
        assert client.get(SUBSCRIPTIONS, headers=_auth(keys[role])).status_code == 403
    assert client.get(SUBSCRIPTIONS).status_code == 401
    listed = client.get(SUBSCRIPTIONS, headers=_auth(keys["admin"])).json()
    assert [s["id"] for s in listed] == [got["id"]] and listed[0]["last_status"] is None
    # Another authority's scope is refused, an unscoped admin picks one.
    assert client.get(SUBSCRIPTIONS, params={"authority": "autreville"},
                      headers=_auth(keys["admin"])).status_code == 403
    assert client.get(SUBSCRIPTIONS, params={"authority": "autreville"},
                      headers=_auth(keys["global_admin"])).json() == []
    bad = client.post(SUBSCRIPTIONS, json={"email": "not an address"},
                      headers=_auth(keys["admin"]))
    assert bad.status_code == 400 and "name@example.org" in bad.json()["hint"]
    unknown = client.post(SUBSCRIPTIONS, json={"email": "a@b.example", "department": "Nope"},
                          headers=_auth(keys["admin"]))
    assert unknown.status_code == 404
    ended = client.delete(f"{SUBSCRIPTIONS}/{got['id']}", headers=_auth(keys["admin"]))
    assert ended.status_code == 200 and ended.json()["unsubscribed_at"]
    assert client.get(SUBSCRIPTIONS, headers=_auth(keys["admin"])).json() == []
    assert client.delete(f"{SUBSCRIPTIONS}/{got['id']}", params={"authority": "autreville"},
                         headers=_auth(keys["global_admin"])).status_code == 404


def test_preview_for_readers_without_the_unsubscribe_link(
        client: TestClient, keys: dict[str, str], factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        owner = authority(session)
        feedback(session, source(session, owner, "avis"), W47, [("courtesy", "negative")],
                 text=HOSTILE, confidence=0.95, times=1)
    sub = client.post(SUBSCRIPTIONS, json={"email": "d@valmont.example"},
                      headers=_auth(keys["admin"])).json()
    page = client.get("/api/v1/digests/preview", params={"period": "2026-W47",
                                                        "subscription": sub["id"]},
                      headers=_auth(keys["viewer"]))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;" in page.text and "<script" not in page.text
    assert "/unsubscribe/" not in page.text
    assert "data:image/png;base64," in page.text  # the volume chart, inlined
    text = client.get("/api/v1/digests/preview", params={"period": "2026-11", "format": "text",
                                                        "frequency": "monthly", "language": "en"},
                      headers=_auth(keys["viewer"]))
    assert text.status_code == 200 and "Not enough data" in text.text
    wrong = client.get("/api/v1/digests/preview", params={"period": "2026-11"},
                       headers=_auth(keys["viewer"]))
    assert wrong.status_code == 400 and "weekly" in wrong.json()["detail"]
    other = client.get("/api/v1/digests/preview", params={"subscription": sub["id"],
                                                         "authority": "autreville"},
                       headers=_auth(keys["global_admin"]))
    assert other.status_code == 404


def test_the_unsubscribe_link_asks_then_ends_the_subscription_without_a_key(
        client: TestClient, settings: Settings, factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        sub = _weekly_subscription(session)
        token = unsubscribe_token(sub, signing_key(settings))
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "<form method=\"post\"" in page.text
    assert "m@valmont.example" in page.text
    with session_scope(factory) as session:
        assert session.get(DigestSubscription, sub.id).unsubscribed_at is None  # type: ignore[union-attr]
    done = client.post(f"/unsubscribe/{token}")
    assert done.status_code == 200 and "C&#39;est fait : m@valmont.example" in done.text
    with session_scope(factory) as session:
        assert session.get(DigestSubscription, sub.id).unsubscribed_at is not None  # type: ignore[union-attr]
    number = token.split(".")[0]
    for forged in (f"{number}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", f"{int(number) + 1}." +
                   token.split(".")[1], "nothing", "1."):
        refused = client.post(f"/unsubscribe/{forged}")
        assert refused.status_code == 404 and "not valid" in refused.text


def test_health_counts_subscriptions_whose_digest_failed(
        client: TestClient, factory: sessionmaker[Session]) -> None:
    assert client.get("/api/v1/health").json()["digests_failed"] == 0
    with session_scope(factory) as session:
        sub = _weekly_subscription(session)
        session.add(DigestLog(subscription_id=sub.id, period="2026-W47", status="failed",
                              attempts=1, error="550 no such mailbox"))
    assert client.get("/api/v1/health").json()["digests_failed"] == 1
