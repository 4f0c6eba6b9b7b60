"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the app
served on a loopback port over the seeded database.

Every page loads without a console error and passes axe-core (no serious or critical
violation); windows and filters switch; a card leads to its verbatims; a chart point too; a
correction changes the figure; sign-in and roles hold; the keyboard reaches everything,
resolves an alert and updates a follow-up.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from ecoute.api.app import create_app
from ecoute.api.web.figures import calendar_windows
from tests.helpers.dashboard import PASSWORD, Dashboard

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "fixtures" / "axe-core" / "axe.min.js"
PAGES = ["/", "/?window=year", "/trends", "/trends?step=week", "/verbatims?window=90d",
         "/verbatims?window=90d&determinant=courtesy", "/sources", "/sources/quarantine",
         "/departments", "/departments?by=site", "/sources/new?kind=mastodon", "/signin",
         "/verbatims?followup=open", "/verbatims?followup=overdue",
         "/trends?source_id=1", "/trends?source_id=1&channel=review", "/?alerts=all",
         f"/?window={calendar_windows(date.today())[3]}"]

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(dashboard: Dashboard) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, for the module's tests."""
    server = uvicorn.Server(uvicorn.Config(create_app(dashboard.settings, dashboard.engine),
                                           host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


class Tab:
    """A page that records console errors and uncaught exceptions."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page, self.base_url, self.errors = page, base_url, []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path)
        assert response.status == 200, (path, response.status)
        return self.page

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.open("/signin")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("form:has(#username) button[type=submit]")
        self.page.wait_for_url(self.base_url + "/")


def _tab(browser: Any, base_url: str, user: str | None = None) -> Tab:
    context = browser.new_context(locale="fr-FR")
    tab = Tab(context.new_page(), base_url)
    if user:
        tab.sign_in(user)
    return tab


@pytest.fixture(scope="module")
def officer(browser: Any, base_url: str) -> Tab:
    return _tab(browser, base_url, "officer")


def _serious_violations(page: Any) -> list[str]:
    # Evaluated through the DevTools protocol: a <script> tag would be refused by the page's
    # content security policy, as it should be.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def admin(browser: Any, base_url: str) -> Tab:
    return _tab(browser, base_url, "admin")


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_clean_and_accessible(admin: Tab, path: str) -> None:
    admin.errors.clear()
    page = admin.open(path)
    assert page.locator("h1").count() == 1
    assert _serious_violations(page) == []
    assert admin.errors == []


def test_window_and_filters_switch(officer: Tab) -> None:
    officer.errors.clear()
    page = officer.open("/")
    page.click("nav.windows >> text=90 jours")
    assert "window=90d" in page.url
    assert page.locator("nav.windows a[aria-current=true]").inner_text() == "90 jours"
    page.select_option("#f-channel", "service_request")
    page.click("form.filters button[type=submit]")
    assert "channel=service_request" in page.url and "window=90d" in page.url
    assert page.locator("table.volumes tbody tr").count() == 1
    assert officer.errors == []


def test_a_card_leads_to_its_verbatims(officer: Tab) -> None:
    page = officer.open("/?window=90d")
    page.click("li[data-determinant=courtesy] h3 a")
    assert "/verbatims" in page.url and "determinant=courtesy" in page.url
    assert page.locator("#figure-title").inner_text() == "Courtoisie"
    items = page.locator("ol.verbatims > li")
    assert items.count() > 0
    for i in range(items.count()):
        assert "Courtoisie" in items.nth(i).locator("ul.tags").inner_text()
    assert page.locator("ol.verbatims mark").count() > 0  # the tagged sentences


def test_a_chart_point_leads_to_its_period(officer: Tab) -> None:
    page = officer.open("/trends")
    page.locator("#serie-courtesy ~ svg circle.point").last.click()
    page.wait_for_url(re.compile(r".*/verbatims\?.*since="))
    assert "determinant=courtesy" in page.url


def test_a_correction_changes_the_figure(officer: Tab) -> None:
    officer.errors.clear()
    address = "/verbatims?window=90d&determinant=waiting_time&polarity=negative"
    page = officer.open(address)
    before = page.locator("[data-figure]").inner_text()
    first = page.locator("ol.verbatims > li").first
    item_id = first.get_attribute("id")
    first.locator("select[name=polarity]").select_option("positive")
    first.locator("form.correct button", has_text="déterminant").click()
    page.wait_for_url(re.compile(r".*corrected=\d+"))
    after = page.locator("[data-figure]").inner_text()
    assert after != before
    assert "enregistrée" in page.locator("p.notice").inner_text()
    # The same item, shown again, says a person corrected it.
    officer.open(f"/verbatims?window=90d&determinant=waiting_time#{item_id}")
    corrected = page.locator(f"#{item_id}")
    assert "corrigé par une personne" in corrected.inner_text()
    corrected.locator("select[name=polarity]").select_option("negative")
    corrected.locator("form.correct button", has_text="déterminant").click()
    page.wait_for_url(re.compile(r".*corrected=\d+"))
    assert officer.errors == []


def test_sign_in_and_roles_hold(browser: Any, base_url: str, dashboard: Dashboard) -> None:
    viewer = _tab(browser, base_url)
    viewer.sign_in("viewer")
    page = viewer.open("/verbatims?window=90d")
    assert page.locator("form.correct").count() == 0
    assert "lecteur" in page.locator("header").inner_text()
    assert page.locator("a[href='/sources/new']").count() == 0
    wrong = _tab(browser, base_url)
    wrong.open("/signin")
    wrong.page.fill("#username", "viewer")
    wrong.page.fill("#password", "not the password")
    wrong.page.click("form:has(#username) button[type=submit]")
    said = wrong.page.locator("[role=alert]").inner_text()
    assert "Wrong username or password." in said or "Identifiant ou mot de passe incorrect." in said
    keyed = _tab(browser, base_url)
    keyed.open("/signin")
    keyed.page.fill("#api_key", dashboard.officer_key)
    keyed.page.click("form:has(#api_key) button[type=submit]")
    keyed.page.wait_for_url(base_url + "/")
    assert keyed.open("/verbatims?window=90d").locator("form.correct").count() > 0
    keyed.page.click("form.signout button")
    keyed.page.wait_for_url(re.compile(r".*/signin"))


def test_hostile_text_stays_text(officer: Tab) -> None:
    page = officer.open("/verbatims?window=90d&q=hacked")
    assert page.evaluate("window.hacked === undefined")
    assert "<script>window.hacked=1</script>" in page.locator("ol.verbatims").inner_text()
    assert page.locator("ol.verbatims img").count() == 0


def test_keyboard_reaches_the_content_and_the_pages(officer: Tab) -> None:
    page = officer.open("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    page = officer.open("/")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Tendances":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/trends"))
    # Every chart's figures are reachable as links in its table.
    page.locator("details summary").first.focus()
    page.keyboard.press("Enter")
    assert page.locator("details[open] table a").count() > 0


def test_keyboard_resolves_an_alert_and_updates_a_followup(officer: Tab) -> None:
    page = officer.open("/")
    assert page.evaluate("window.hacked === undefined")  # the hostile source name of an alert
    alerts = page.locator("li.alert").count()
    assert alerts > 0
    page.locator("section.alerts button").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*resolved=\d+#alerts"))
    assert page.locator("li.alert").count() == alerts - 1
    assert "Alerte traitée" in page.locator("section.alerts .notice").inner_text()
    page = officer.open("/verbatims?followup=open")
    page.locator(".followup input[name=assignee]").first.focus()
    page.keyboard.type("Équipe voirie")
    page.keyboard.press("Enter")  # Enter in a text field sends its form
    page.wait_for_url(re.compile(r".*followed=\d+#item-\d+"))
    saved = page.locator(".followup:has(.notice)")
    assert "Suivi enregistré" in saved.inner_text()
    assert "Équipe voirie" in saved.inner_text() and "attribué" in saved.inner_text()
    assert officer.errors == []
