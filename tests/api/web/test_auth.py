"""Signing in to the dashboard, sessions, CSRF, roles and authority scoping (HTTP level;
the browser tests drive the same through Chromium)."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from ecoute.api.app import create_app
from tests.helpers.dashboard import PASSWORD, Dashboard, csrf_of, sign_in


def _client(dashboard: Dashboard, base_url: str = "http://testserver",
            **settings: object) -> TestClient:
    return TestClient(create_app(dashboard.settings.model_copy(update=settings),
                                 dashboard.engine), base_url=base_url)


def test_prod_pages_need_a_sign_in(dashboard: Dashboard) -> None:
    client = _client(dashboard, api_anonymous_read=False)
    response = client.get("/trends?step=week", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Ftrends%3Fstep%3Dweek"
    assert client.get("/signin").status_code == 200
    # The API keeps its JSON answers.
    assert client.get("/api/v1/satisfaction").json()["error"] == "Unauthorized"


def test_password_sign_in_sets_a_guarded_cookie_and_signs_out(dashboard: Dashboard) -> None:
    client = _client(dashboard, api_anonymous_read=False)
    wrong = sign_in(client, "officer", "not the password")
    assert wrong.status_code == 401 and "Identifiant ou mot de passe incorrect" in wrong.text
    response = client.get("/signin")
    token = response.text.split('name="signin_token" value="', 1)[1].split('"', 1)[0]
    signed = client.post("/signin", data={"signin_token": token, "username": "officer",
                                          "password": PASSWORD, "next": "/sources"},
                         follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/sources"
    cookie = signed.headers["set-cookie"]
    assert "ecoute_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Secure" not in cookie  # env = dev
    page = client.get("/")
    assert "officer (chargé de qualité)" in page.text
    out = client.post("/signout", data={"csrf_token": csrf_of(page.text)},
                      follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_secure_cookie_outside_dev(dashboard: Dashboard) -> None:
    # Secure cookies travel over HTTPS only, the sign-in form's one too.
    client = _client(dashboard, "https://testserver", env="prod", pseudonym_key="x" * 32,
                     api_anonymous_read=False)
    response = sign_in(client, "viewer", follow_redirects=False)
    assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]


def test_sign_in_form_needs_its_own_token(dashboard: Dashboard) -> None:
    client = _client(dashboard)
    response = client.post("/signin", data={"signin_token": "forged", "username": "officer",
                                            "password": PASSWORD})
    assert response.status_code == 403 and "Le formulaire de connexion a expiré" in response.text


@pytest.mark.parametrize(("language", "wrong", "unknown", "hint"), [
    ("en", "Wrong username or password.", "This API key is unknown or revoked.",
     "ecoute users password"),
    ("fr", "Identifiant ou mot de passe incorrect.", "Cette clé d'API est inconnue ou révoquée.",
     "Vérifiez les deux"),
])
def test_sign_in_refusals_speak_the_page_language(dashboard: Dashboard, language: str,
                                                  wrong: str, unknown: str, hint: str) -> None:
    client = _client(dashboard, api_anonymous_read=False)
    client.cookies.set("ecoute_lang", language)
    # A username of its own: failures count towards a lock, which the other tests' officer
    # must not reach.
    refused = sign_in(client, f"someone-{language}", "not the password")
    assert refused.status_code == 401
    assert wrong in html.unescape(refused.text) and hint in html.unescape(refused.text)
    assert unknown in html.unescape(sign_in(client, "", "", api_key="ek_unknown").text)
    # The other language's words are not there.
    other = "Identifiant ou mot de passe incorrect." if language == "en" else \
        "Wrong username or password."
    assert other not in refused.text
    expired = client.post("/signin", data={"signin_token": "forged", "username": "officer",
                                           "password": PASSWORD})  # refused before counting
    assert expired.status_code == 403
    assert ("The sign-in form has expired." if language == "en"
            else "Le formulaire de connexion a expiré.") in expired.text


def test_api_key_sign_in_and_ingest_keys_refused(dashboard: Dashboard) -> None:
    client = _client(dashboard, api_anonymous_read=False)
    refused = sign_in(client, "", "", api_key=dashboard.ingest_key)
    assert refused.status_code == 403 and "Une clé d&#39;envoi" in refused.text
    unknown = sign_in(client, "", "", api_key="ek_unknown")
    assert unknown.status_code == 401 and "inconnue ou révoquée" in unknown.text
    sign_in(client, "", "", api_key=dashboard.viewer_key)
    assert "lecteur" in client.get("/").text


def _item_id(html: str) -> int:
    return int(re.findall(r'id="item-(\d+)"', html)[0])


def test_viewer_cannot_correct_and_forms_need_the_csrf_token(dashboard: Dashboard) -> None:
    viewer = _client(dashboard)
    sign_in(viewer, "viewer")
    page = viewer.get("/verbatims")
    assert "/determinant\"" not in page.text  # no correction form for a viewer
    item = _item_id(page.text)
    refused = viewer.post(f"/verbatims/{item}/sentiment",
                          data={"sentiment": "positive", "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 403 and "quality officers" in refused.text
    officer = _client(dashboard)
    sign_in(officer, "officer")
    forged = officer.post(f"/verbatims/{item}/sentiment",
                          data={"sentiment": "positive", "csrf_token": "forged"})
    assert forged.status_code == 403 and "reload the page" in forged.text
    page = officer.get("/verbatims")
    elsewhere = officer.post(f"/verbatims/{item}/sentiment",
                             data={"sentiment": "positive", "csrf_token": csrf_of(page.text)},
                             headers={"origin": "https://attacker.example"})
    assert elsewhere.status_code == 403 and "another site" in elsewhere.text
    anonymous = _client(dashboard)
    assert anonymous.post(f"/verbatims/{item}/sentiment",
                          data={"sentiment": "positive"}).status_code == 401


def test_another_authority_sees_nothing_of_this_one(dashboard: Dashboard) -> None:
    local = _client(dashboard)
    item = _item_id(local.get("/verbatims").text)
    stranger = _client(dashboard, api_anonymous_read=False)
    sign_in(stranger, "stranger")
    page = stranger.get("/verbatims")
    assert "Autre ville" in page.text and 'id="item-' not in page.text
    assert stranger.get("/?authority=demo").status_code == 403
    hit = stranger.post(f"/verbatims/{item}/sentiment",
                        data={"sentiment": "positive", "csrf_token": csrf_of(page.text)})
    assert hit.status_code == 404


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example/x",
                                    "/\\elsewhere.example"])
def test_no_redirect_leaves_the_site(dashboard: Dashboard, target: str) -> None:
    client = _client(dashboard)
    response = client.get("/language/en", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"
    signed = sign_in(client, "viewer", next=target, follow_redirects=False)
    assert signed.headers.get("location", "/") == "/"
