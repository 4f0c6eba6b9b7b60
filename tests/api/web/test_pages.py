"""The dashboard's pages over HTTP: what they show, in which language, with which headers,
and what an officer's correction or an administrator's form changes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from ecoute.api.app import create_app
from ecoute.api.web.figures import WINDOWS
from tests.helpers.dashboard import HOSTILE, Dashboard, csrf_of, sign_in

PAGES = ["/", "/trends", "/trends?step=week", "/verbatims", "/sources",
         "/sources/quarantine", "/departments", "/departments?by=site", "/signin"]


@pytest.fixture
def client(dashboard: Dashboard) -> TestClient:
    return TestClient(create_app(dashboard.settings, dashboard.engine))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    # No inline script or style for the policy to block.
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert " style=" not in response.text and "<style" not in response.text


def test_the_api_documentation_keeps_its_own_headers(client: TestClient) -> None:
    # Swagger UI runs inline scripts: the dashboard's policy must not break it.
    response = client.get("/docs")
    assert response.status_code == 200 and "content-security-policy" not in response.headers
    assert client.get("/api/v1/health").headers["x-content-type-options"] == "nosniff"


def test_user_text_is_escaped(client: TestClient) -> None:
    page = client.get("/verbatims", params={"q": "hacked"}).text
    assert "<script>window" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in page
    assert "onerror=&#34;window.hacked=2&#34;" in page
    assert "&lt;b&gt;Titre&lt;/b&gt;" in page
    assert HOSTILE.split()[-1] in page


def test_overview_cards_show_share_interval_n_and_not_enough_data(client: TestClient) -> None:
    page = client.get("/", params={"window": "90d"}, headers={"accept-language": "en"}).text
    cards = dict(re.findall(r'data-determinant="(\w+)">(.*?)</li>', page, flags=re.S))
    assert set(cards) == {"accessibility", "responsiveness", "courtesy", "personalization",
                          "waiting_time", "transfer_efficiency", "complaints_management"}
    assert "95 % interval" in cards["courtesy"] and "n = " in cards["courtesy"]
    assert '<svg class="chart interval-bar"' in cards["courtesy"]
    assert "Not enough data" in cards["transfer_efficiency"]
    assert "interval-bar" not in cards["transfer_efficiency"]
    # The card links to its verbatims over the same window.
    assert 'href="/verbatims?window=90d&amp;determinant=courtesy"' in cards["courtesy"]
    assert "Reviews" in page and "Service requests" in page


@pytest.mark.parametrize("window", WINDOWS)
def test_every_window_renders(client: TestClient, window: str) -> None:
    response = client.get("/", params={"window": window})
    assert response.status_code == 200
    assert f'href="/?window={window}" aria-current="true"' in response.text


def test_unknown_window_is_a_page_that_says_what_to_choose(client: TestClient) -> None:
    response = client.get("/", params={"window": "fortnight"})
    assert response.status_code == 400 and "choose one of 7d, 30d" in response.text
    assert "<!doctype html>" in response.text


def test_filters_narrow_the_figures(client: TestClient) -> None:
    everything = client.get("/", params={"window": "year"}).text
    requests_only = client.get("/", params={"window": "year",
                                            "channel": "service_request"}).text
    assert "Signalements" in requests_only and "Avis</a>" not in requests_only
    assert "Avis</a>" in everything


def test_language_follows_the_browser_and_the_choice(client: TestClient) -> None:
    assert '<html lang="en">' in client.get("/", headers={"accept-language": "en-GB"}).text
    assert '<html lang="fr">' in client.get(
        "/", headers={"accept-language": "de, fr;q=0.5, en;q=0.3"}).text
    assert "Vue d&#39;ensemble" in client.get("/").text  # the authority's locale
    chosen = client.get("/language/en", params={"next": "/trends"}, follow_redirects=False)
    assert chosen.headers["location"] == "/trends"
    client.cookies.set("ecoute_lang", "en")
    assert "Trends" in client.get("/trends", headers={"accept-language": "fr"}).text


def _figure(html: str) -> str:
    return re.search(r"data-figure>([^<]*)<", html).group(1)  # type: ignore[union-attr]


def test_a_correction_changes_the_figure(dashboard: Dashboard) -> None:
    client = TestClient(create_app(dashboard.settings.model_copy(
        update={"min_sample_size": 1}), dashboard.engine))
    sign_in(client, "officer")
    address = "/verbatims?window=90d&determinant=waiting_time&polarity=negative"
    page = client.get(address)
    before = _figure(page.text)
    item = re.findall(r'id="item-(\d+)"', page.text)[0]
    response = client.post(f"/verbatims/{item}/determinant", data={
        "determinant": "waiting_time", "polarity": "positive",
        "csrf_token": csrf_of(page.text), "back": address}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"corrected={item}#item-{item}")
    after = client.get(response.headers["location"])
    assert _figure(after.text) != before and f"item {item}" in after.text.replace(
        "élément", "item")
    corrected = client.get("/verbatims?window=90d&determinant=waiting_time&q=")
    assert "corrigé par une personne" in corrected.text
    # Back to what the model said, so that the other tests see the seeded figures.
    client.post(f"/verbatims/{item}/determinant", data={
        "determinant": "waiting_time", "polarity": "negative",
        "csrf_token": csrf_of(page.text), "back": address})


def test_sources_show_health_and_quarantine_with_masked_payload(client: TestClient) -> None:
    sources = client.get("/sources").text
    for name in ("avis-accueil", "signalements", "export-tronque"):
        assert name in sources
    assert "entrées en quarantaine" in sources
    quarantine = client.get("/sources/quarantine").text
    assert "export-tronque" in quarantine and 'class="payload"' in quarantine
    assert "[EMAIL]" in quarantine and "jean.dupont" not in quarantine
    assert "/retry\"" not in quarantine  # anonymous readers do not act


def test_officer_dismisses_a_quarantine_entry(dashboard: Dashboard) -> None:
    client = TestClient(create_app(dashboard.settings, dashboard.engine))
    sign_in(client, "officer")
    page = client.get("/sources/quarantine").text
    entry = re.findall(r'id="entry-(\d+)"', page)[0]
    response = client.post(f"/sources/quarantine/{entry}/dismiss",
                           data={"csrf_token": csrf_of(page)})
    assert response.status_code == 200 and f'id="entry-{entry}"' not in response.text
    assert "écartée" in response.text


def test_admin_adds_changes_and_disables_a_source(dashboard: Dashboard, tmp_path_factory:
                                                  pytest.TempPathFactory) -> None:
    client = TestClient(create_app(dashboard.settings, dashboard.engine))
    sign_in(client, "admin")
    form = client.get("/sources/new", params={"kind": "mastodon"})
    assert form.status_code == 200
    assert 'name="option.instance"' in form.text and 'type="password"' in form.text
    invalid = client.post("/sources/new", data={
        "csrf_token": csrf_of(form.text), "kind": "mastodon", "name": "",
        "option.page_size": "many", "option.instance": "social.example"})
    assert invalid.status_code == 422
    assert 'id="o-page_size-error"' in invalid.text and 'aria-invalid="true"' in invalid.text
    assert 'id="o-name-error"' in invalid.text
    assert 'value="social.example"' in invalid.text  # what was typed is kept
    folder = tmp_path_factory.mktemp("new-feed")
    created = client.post("/sources/new", data={
        "csrf_token": csrf_of(form.text), "kind": "rss", "name": "nouveau-flux",
        "option.url": str(folder / "feed.rss"), "option.channel": "review"},
        follow_redirects=False)
    assert created.status_code == 303, created.text
    source_id = int(created.headers["location"].rsplit("=", 1)[1])
    edit = client.get(f"/sources/{source_id}/edit")
    assert "feed.rss" in edit.text
    bad_schedule = client.post(f"/sources/{source_id}/edit", data={
        "csrf_token": csrf_of(edit.text), "option.url": str(folder / "feed.rss"),
        "schedule": "whenever you like"})
    assert bad_schedule.status_code == 422 and "schedule" in bad_schedule.text
    disabled = client.post(f"/sources/{source_id}/enabled",
                           data={"csrf_token": csrf_of(edit.text), "enabled": "false"})
    assert disabled.status_code == 200 and "désactivée" in disabled.text
    officer = TestClient(create_app(dashboard.settings, dashboard.engine))
    sign_in(officer, "officer")
    assert officer.get("/sources/new").status_code == 403


def test_verbatims_take_the_filters_of_the_items_api(client: TestClient) -> None:
    """The page lists what ``GET /api/v1/items`` lists with the same filters."""
    for params in ({"sentiment": "negative"}, {"sentiment": "positive", "q": "ACCUEIL"},
                   {"q": "hacked"}):
        page = client.get("/verbatims", params={"window": "90d", **params}).text
        shown = {int(n) for n in re.findall(r'<li id="item-(\d+)"', page)}
        listed = client.get("/api/v1/items", params={"since": "2000-01-01", "limit": 500,
                                                     **params}).json()["items"]
        # The page covers 90 days, the listing since 2000: the page's items are among them.
        assert shown and shown <= {i["id"] for i in listed}, params
        if "sentiment" in params:
            assert {i["sentiment"] for i in listed} == {params["sentiment"]}
    assert 'name="sentiment"' in client.get("/verbatims").text
