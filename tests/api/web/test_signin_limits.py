"""Failed sign-ins slowed, then refused for a while, on the dashboard's forms and the API's
keys; the app's clock is moved by the tests (the module's other tests run on real time, far
from these failures)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from ecoute.api.app import create_app
from ecoute.store.db import make_session_factory, session_scope
from ecoute.store.models import SigninFailure
from ecoute.store.signin_attempts import subject_hash
from tests.helpers.dashboard import Dashboard, sign_in

T0 = datetime(2020, 3, 2, 8, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _client(dashboard: Dashboard, clock: Clock, address: str, **settings: object
            ) -> TestClient:
    app = create_app(dashboard.settings.model_copy(update=settings), dashboard.engine)
    app.state.clock = clock
    return TestClient(app, client=(address, 50000))


def test_password_failures_are_slowed_then_locked_until_the_lock_expires(
        dashboard: Dashboard) -> None:
    clock = Clock()
    client = _client(dashboard, clock, "192.0.2.10", api_anonymous_read=False)
    assert sign_in(client, "admin", "wrong one").status_code == 401
    clock.now += timedelta(seconds=1)
    assert sign_in(client, "admin", "wrong two").status_code == 401
    clock.now += timedelta(seconds=1)
    slowed = sign_in(client, "admin")  # the right password, but too soon
    assert slowed.status_code == 429 and slowed.headers["retry-after"] == "4"
    assert "Trop de connexions échouées" in slowed.text and "4 secondes" in slowed.text
    for wait in (10, 20, 40):  # past each wait: the 3rd, 4th and 5th failures
        clock.now += timedelta(seconds=wait)
        assert sign_in(client, "admin", "still wrong").status_code == 401
    last = clock.now
    clock.now += timedelta(minutes=1)
    locked = _sign_in_en(client, "admin")
    assert locked.status_code == 429 and locked.headers["retry-after"] == str(14 * 60)
    assert "Too many failed sign-ins" in locked.text and "Try again in 14 minutes" in locked.text
    # The same username from another address is locked as well.
    elsewhere = _client(dashboard, clock, "198.51.100.10", api_anonymous_read=False)
    assert sign_in(elsewhere, "admin").status_code == 429
    # The lock expires; the success clears the username's and the address's failures.
    clock.now = last + timedelta(minutes=15, seconds=1)
    assert sign_in(client, "admin", follow_redirects=False).status_code == 303
    with session_scope(make_session_factory(dashboard.engine)) as session:
        left = set(session.scalars(select(SigninFailure.subject)))
    assert subject_hash("user", "admin") not in left
    assert subject_hash("address", "192.0.2.10") not in left


def _sign_in_en(client: TestClient, username: str) -> httpx.Response:
    client.cookies.set("ecoute_lang", "en")
    try:
        return sign_in(client, username)
    finally:
        client.cookies.delete("ecoute_lang")


def test_unknown_api_keys_lock_the_address_on_the_api_and_the_form(
        dashboard: Dashboard) -> None:
    clock = Clock()
    client = _client(dashboard, clock, "192.0.2.20", api_anonymous_read=False,
                     signin_max_failures_per_address=3)
    for n in range(3):
        clock.now += timedelta(minutes=1)
        answer = client.get("/api/v1/satisfaction", headers={"x-api-key": f"ek_guess{n}"})
        assert answer.status_code == 401
    clock.now += timedelta(minutes=1)
    refused = client.get("/api/v1/satisfaction", headers={"x-api-key": dashboard.viewer_key})
    assert refused.status_code == 429 and refused.json()["error"] == "TooManyAttempts"
    assert refused.headers["retry-after"] == str(14 * 60)
    assert "wait until" in refused.json()["hint"]
    form = sign_in(client, "", "", api_key=dashboard.viewer_key)
    assert form.status_code == 429 and "Réessayez dans 14 minutes" in form.text
    # Another address is not concerned; after the lockout this one is heard again.
    other = _client(dashboard, clock, "192.0.2.21", api_anonymous_read=False,
                    signin_max_failures_per_address=3)
    assert other.get("/api/v1/satisfaction",
                     headers={"x-api-key": dashboard.viewer_key}).status_code == 200
    clock.now += timedelta(minutes=15)
    assert client.get("/api/v1/satisfaction",
                      headers={"x-api-key": dashboard.viewer_key}).status_code == 200
    assert sign_in(client, "", "", api_key=dashboard.viewer_key,
                   follow_redirects=False).status_code == 303


def test_the_username_shown_on_the_locked_page_is_never_echoed(dashboard: Dashboard) -> None:
    clock = Clock()
    client = _client(dashboard, clock, "192.0.2.30", api_anonymous_read=False)
    hostile = "<script>alert(1)</script>"
    for _ in range(5):
        clock.now += timedelta(minutes=1)
        assert sign_in(client, hostile, "x").status_code == 401
    locked = sign_in(client, hostile, "x")
    assert locked.status_code == 429 and "<script>alert(1)" not in locked.text
