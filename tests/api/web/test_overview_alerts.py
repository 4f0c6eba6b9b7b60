"""The overview's active alerts: told in the page's language, escaped, linked to their
verbatims, and resolved by an officer of the authority only."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select

from ecoute.api.app import create_app
from ecoute.store.db import make_session_factory, session_scope
from ecoute.store.models import Alert
from tests.helpers.dashboard import Dashboard, csrf_of, sign_in
from tests.helpers.dashboard_alerts import HOSTILE_SOURCE


def _client(dashboard: Dashboard) -> TestClient:
    return TestClient(create_app(dashboard.settings, dashboard.engine))


def _alert(dashboard: Dashboard, key: str) -> Alert:
    with session_scope(make_session_factory(dashboard.engine)) as session:
        alert = session.scalar(select(Alert).where(Alert.key == key))
        assert alert is not None
        session.expunge(alert)
        return alert


def _section(html: str) -> str:
    return html.split('id="alerts"', 1)[1].split("</section>", 1)[0]


def test_alerts_are_told_in_the_page_language_with_their_figures(dashboard: Dashboard) -> None:
    client = _client(dashboard)
    french = _section(client.get("/").text)
    assert "Alertes en cours" in client.get("/").text
    assert "Baisse significative" in french and "Courtoisie : 40\u00a0% de positifs" in french
    assert "contre 75\u00a0%" in french and "n = 35, p = 0,012" in french
    english = _section(client.get("/", headers={"accept-language": "en"}).text)
    assert "Courtesy: 40% positive" in english and "down from 75%" in english
    assert "Silent source" in english and "last success: never" in english
    # A viewer (anonymous here) reads, but has no form to resolve.
    assert "/resolve" not in french


def test_an_alert_links_to_the_verbatims_behind_it(dashboard: Dashboard) -> None:
    client = _client(dashboard)
    section = _section(client.get("/").text)
    links = [unescape(h) for h in re.findall(r'href="(/verbatims[^"]*)"', section)]
    drop = next(h for h in links if "determinant=courtesy" in h)
    assert "polarity=negative" in drop and "since=" in drop and "until=" in drop
    page = client.get(drop)
    assert page.status_code == 200 and "Courtoisie" in page.text


def test_alert_texts_are_escaped(dashboard: Dashboard) -> None:
    section = _section(_client(dashboard).get("/").text)
    assert HOSTILE_SOURCE not in section
    assert "&lt;script&gt;window.hacked=3&lt;/script&gt;" in section


def test_an_officer_resolves_an_alert_from_the_overview(dashboard: Dashboard) -> None:
    alert = _alert(dashboard, "source_silent:999")
    viewer = _client(dashboard)
    sign_in(viewer, "viewer")
    page = viewer.get("/").text
    assert "/resolve" not in _section(page)
    refused = viewer.post(f"/alerts/{alert.id}/resolve", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403
    stranger = _client(dashboard)
    sign_in(stranger, "stranger")
    hidden = stranger.post(f"/alerts/{alert.id}/resolve",
                           data={"csrf_token": csrf_of(stranger.get("/").text)})
    assert hidden.status_code == 404
    officer = _client(dashboard)
    sign_in(officer, "officer")
    page = officer.get("/?window=30d").text
    assert f'action="/alerts/{alert.id}/resolve"' in page
    forged = officer.post(f"/alerts/{alert.id}/resolve", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert _alert(dashboard, "source_silent:999").resolved_at is None
    done = officer.post(f"/alerts/{alert.id}/resolve",
                        data={"csrf_token": csrf_of(page), "back": "/?window=30d"},
                        follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/?window=30d&resolved={alert.id}#alerts"
    after = officer.get(done.headers["location"]).text
    assert "Alerte traitée" in after and f'id="alert-{alert.id}"' not in after
    resolved = _alert(dashboard, "source_silent:999")
    assert resolved.resolved_at is not None and resolved.resolved_by == "user:officer"
    again = officer.post(f"/alerts/{alert.id}/resolve", data={"csrf_token": csrf_of(after)})
    assert again.status_code == 409 and "already resolved" in again.text
