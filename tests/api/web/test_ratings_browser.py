"""The overview's ratings block in a real browser: no console error, no serious axe-core
violation (see test_browser.py)."""

from __future__ import annotations

from typing import Any

from tests.api.web.test_browser import Tab, _serious_violations, base_url, browser  # noqa: F401
from tests.api.web.test_ratings_card import rated  # noqa: F401 (fixture)
from tests.helpers.dashboard import Dashboard


def test_ratings_block_is_accessible(rated: Dashboard, browser: Any,  # noqa: F811
                                     base_url: str) -> None:  # noqa: F811
    context = browser.new_context(locale="fr-FR")
    tab = Tab(context.new_page(), base_url)
    page = tab.open("/?window=30d")
    assert page.locator("section.ratings li[data-scale]").count() == 2
    assert "NPS +17" in page.locator("section.ratings li[data-scale='0-10']").inner_text()
    assert _serious_violations(page) == []
    assert tab.errors == []
    context.close()
