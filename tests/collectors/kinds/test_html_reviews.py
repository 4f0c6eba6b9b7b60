"""The html_reviews collector on real saved pages served from 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.collectors.kinds.html_reviews import HtmlReviewsCollector
from ecoute.collectors.registry import validate_options
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.errors import CollectError, FetchError, InvalidOptions
from ecoute.store.db import session_scope
from ecoute.store.models import DailyRollup, Item
from ecoute.store.source_figures import figure_history, latest_figures
from tests.conftest import TEST_DATA, needs_test_data
from tests.helpers.collect import collect_all, collect_figures
from tests.helpers.servers import FileServer

HTML = TEST_DATA / "html"
RECIPE_PAGES = sorted((HTML / "recipe_scrapers").glob("*/*.html"))


def collector(**options: Any) -> HtmlReviewsCollector:
    return HtmlReviewsCollector(HtmlReviewsCollector.Options(**options))


def serve(server: FileServer, page: Path, name: str | None = None) -> str:
    shutil.copy(page, server.root / (name or page.name))
    return server.url(name or page.name)


def reviews(items: list) -> list:
    return items


@needs_test_data
@pytest.mark.parametrize("page", RECIPE_PAGES, ids=lambda p: p.parent.name)
def test_aggregate_rating_of_every_saved_page(page: Path, file_server: FileServer,
                                              tmp_path: Path) -> None:
    expected = json.loads(page.with_name(page.stem + ".expected.json").read_text())
    url = serve(file_server, page)
    items, rejected, _ = collect_all(collector(url=url), tmp=tmp_path)
    assert not rejected
    [aggregate] = collect_figures(collector(url=url), tmp=tmp_path)
    assert aggregate.rating_value == pytest.approx(expected["ratings"], abs=0.006)
    assert aggregate.rating_count or aggregate.review_count
    count = aggregate.rating_count or aggregate.review_count
    assert count == expected["ratings_count"]
    assert (aggregate.worst_rating, aggregate.best_rating) in ((1, 5), (0, 5))
    assert 0.5 < aggregate.rating_value / aggregate.best_rating <= 1.0
    assert f"{aggregate.rating_value:g}" in aggregate.text and aggregate.url == url
    for review in reviews(items):
        assert review.text.strip(), f"{page.name}: a review without text"
        assert review.rating_value is None or review.rating_scale == "1-5"


@needs_test_data
@pytest.mark.parametrize(
    ("page", "first"),
    [
        ("allrecipes.com/allrecipescurated.html", ("G8RTCHR", 5.0, "This was great - even")),
        ("littlespicejar.com/littlespicejar.html", ("Angela", 5.0, "I made it and everyone")),
        ("williams-sonoma.com/williamssonoma_2.html", ("Donnagar10", 1.0, "While the cake came")),
        ("delishkitchen.tv/delishkitchen_1.html", ("はぎこ", 5.0, "ポットで沸騰させた")),
        ("ricardocuisine.com/ricardocuisine_1.html", ("Anonymous", None, "Délicieux mais")),
    ],
)
def test_individual_reviews_keep_text_author_and_rating(
    page: str, first: tuple[str, float | None, str], file_server: FileServer, tmp_path: Path
) -> None:
    items, _, _ = collect_all(collector(url=serve(file_server, HTML / "recipe_scrapers" / page)),
                              tmp=tmp_path)
    found = reviews(items)
    assert len(found) >= 5
    author, rating, start = first
    assert (found[0].author, found[0].rating_value) == (author, rating)
    assert found[0].text.startswith(start)
    assert all(r.author for r in found)
    if rating is not None:
        assert found[0].rating_norm == (rating - 1) / 4
    assert len({r.external_id for r in found}) == len(found)


@needs_test_data
def test_microdata_review_date_and_title(file_server: FileServer, tmp_path: Path) -> None:
    page = HTML / "recipe_scrapers/williams-sonoma.com/williamssonoma_2.html"
    items, _, _ = collect_all(collector(url=serve(file_server, page)), tmp=tmp_path)
    first = reviews(items)[0]
    assert first.title == "Chocolate Cake?"
    assert first.published_at is not None and first.published_at.isoformat()[:10] == "2022-10-30"
    assert len(reviews(items)) == 8  # the microdata reviews, each once


def _expected_objects(node: Any, kind: str) -> list[dict[str, Any]]:
    """Review or AggregateRating objects in extruct's expected output, in either of its
    shapes (uniform JSON-LD, or ``{"type": ..., "properties": ...}`` microdata)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, list):
        for child in node:
            found += _expected_objects(child, kind)
    elif isinstance(node, dict):
        types = node.get("@type") or node.get("type") or ""
        props = node.get("properties", node)
        if str(types).rsplit("/", 1)[-1] == kind:
            found.append(props)
        for value in props.values():
            found += _expected_objects(value, kind)
    return found


@needs_test_data
@pytest.mark.parametrize("name", [
    "schema.org/CreativeWork.001", "schema.org/LocalBusiness.002", "schema.org/product-ref",
    "schema.org/product", "misc/null_ld_mock",
])
def test_extruct_samples_match_their_expected_output(name: str, tmp_path: Path) -> None:
    page = HTML / "extruct" / f"{name}.html"
    expected_file = next(page.parent.glob(f"{page.stem}.expected.json*"))
    expected = json.loads(expected_file.read_text())
    items, rejected, _ = collect_all(collector(url=str(page)), tmp=tmp_path)
    assert not rejected
    [want] = _expected_objects(expected, "AggregateRating")
    [got] = collect_figures(collector(url=str(page)), tmp=tmp_path)
    assert got.rating_value == float(want["ratingValue"])
    assert (got.rating_count or got.review_count) == float(
        want.get("ratingCount") or want["reviewCount"])
    bodies = [r.get("reviewBody") for r in _expected_objects(expected, "Review")]
    assert [r.text for r in reviews(items)] == bodies


@needs_test_data
def test_unicode_escaped_jsonld_keys(tmp_path: Path) -> None:
    items, _, _ = collect_all(collector(url=str(HTML / "extruct/misc/null_ld_mock.html")),
                              tmp=tmp_path)
    [review] = reviews(items)
    assert review.text.startswith("Sed ut perspiciatis") and review.rating_value is None
    page = str(HTML / "extruct/misc/null_ld_mock.html")
    assert collect_figures(collector(url=page), tmp=tmp_path)[0].subject == "Some Name Goes Here"


@needs_test_data
def test_large_page_without_reviews_yields_nothing_and_does_not_fail(tmp_path: Path) -> None:
    page = HTML / "extruct/misc/opengraph_ns_product_test.html"
    assert page.stat().st_size > 800_000
    items, rejected, _ = collect_all(collector(url=page.as_uri()), tmp=tmp_path)
    assert (items, rejected) == ([], [])


@needs_test_data
@pytest.mark.parametrize("declared", ["meta", "header"])
def test_non_utf8_page(declared: str, file_server: FileServer, tmp_path: Path) -> None:
    page = (HTML / "recipe_scrapers/ricardocuisine.com/ricardocuisine_1.html").read_text()
    page = page.replace('charset="utf-8"', 'charset="windows-1252"').replace(
        "charset=utf-8", "charset=windows-1252")
    if declared == "header":
        page = page.replace('<meta charset="windows-1252" />', "").replace(
            'content="text/html; charset=windows-1252"', 'content="text/html"')
    body = page.encode("cp1252", errors="replace")
    headers = {"Content-Type": "text/html; charset=windows-1252" if declared == "header"
               else "text/html"}
    file_server.overrides["/cp1252.html"] = (200, headers, body)
    items, _, _ = collect_all(collector(url=file_server.url("cp1252.html")), tmp=tmp_path)
    assert reviews(items)[0].text.startswith("Délicieux mais beaucoup de sauce")
    assert "Ã" not in " ".join(r.text for r in items)


REVIEW_PAGE = """<html lang="fr"><head><title>Vos avis</title>{link}</head><body>
<ul>{rows}</ul>{next}</body></html>"""
ROW = """<li class="avis"><h3>{title}</h3><p class="texte">{text}</p>
<span class="note" data-note="{note}">{note}/10</span><time datetime="2026-03-0{n}">3 mars</time>
<span class="auteur">{author}</span></li>"""
SELECTORS = {"container": "li.avis", "text": "p.texte", "title": "h3", "rating": ".note",
             "rating_attribute": "data-note", "date": "time", "author": ".auteur"}


def _feedback_pages(root: Path, count: int, *, next_style: str = "link") -> None:
    for page in range(1, count + 1):
        rows = "".join(ROW.format(title=f"Avis {page}.{n}", text=f"Accueil {page}.{n} correct",
                                  note=page + n, n=n, author=f"Usager {n}") for n in (1, 2))
        target = f"page{page % count + 1}.html"  # the last page points back to the first
        link = f'<link rel="next" href="{target}">' if next_style == "link" else ""
        anchor = f'<a class="suivant" href="{target}">suivant</a>' if next_style == "a" else ""
        (root / f"page{page}.html").write_text(
            REVIEW_PAGE.format(link=link, rows=rows, next=anchor), encoding="utf-8")


def test_css_selectors_and_rel_next_pagination(file_server: FileServer, tmp_path: Path) -> None:
    _feedback_pages(file_server.root, 3)
    items, rejected, _ = collect_all(
        collector(url=file_server.url("page1.html"), selectors=SELECTORS,
                  rating_scale="0-10"), tmp=tmp_path)
    assert not rejected
    assert [i.title for i in items] == [f"Avis {p}.{n}" for p in (1, 2, 3) for n in (1, 2)]
    first = items[0]
    # The page says lang="fr"; the language of a review is detected from its own text.
    assert (first.text, first.author, first.lang) == ("Accueil 1.1 correct", "Usager 1", None)
    assert (first.rating_value, first.rating_scale, first.rating_norm) == (2.0, "0-10", 0.2)
    assert first.published_at is not None and first.published_at.day == 1
    assert [p for p, _ in file_server.requests] == [
        "/page1.html", "/robots.txt", "/page2.html", "/page3.html"]


def test_pages_reached_by_links_obey_robots_txt(file_server: FileServer, tmp_path: Path) -> None:
    _feedback_pages(file_server.root, 3)
    (file_server.root / "robots.txt").write_text("User-agent: *\nDisallow: /page2.html\n",
                                                 encoding="utf-8")
    items, rejected, _ = collect_all(
        collector(url=file_server.url("page1.html"), selectors=SELECTORS), tmp=tmp_path)
    # The page the user named is read; the next one is refused by the site's robots.txt.
    assert [i.title for i in items] == ["Avis 1.1", "Avis 1.2"]
    assert len(rejected) == 1 and "robots.txt" in rejected[0].reason
    assert "/page2.html" not in [p for p, _ in file_server.requests]


def test_next_selector_and_page_limit(file_server: FileServer, tmp_path: Path) -> None:
    _feedback_pages(file_server.root, 5, next_style="a")
    items, _, ctx = collect_all(
        collector(url=file_server.url("page1.html"), selectors=SELECTORS,
                  next_selector="a.suivant", max_pages=2), tmp=tmp_path)
    assert len(items) == 4
    assert [p for p, _ in file_server.requests if p != "/robots.txt"] == [
        "/page1.html", "/page2.html"]
    # The run report says the site was only partly read, and how to read the rest.
    [warning] = ctx.warnings
    assert "max_pages=2" in warning and file_server.url("page3.html") in warning


def test_pages_up_to_the_limit_and_no_further_give_no_warning(file_server: FileServer,
                                                             tmp_path: Path) -> None:
    _feedback_pages(file_server.root, 2, next_style="a")
    items, _, ctx = collect_all(
        collector(url=file_server.url("page1.html"), selectors=SELECTORS,
                  next_selector="a.suivant", max_pages=2), tmp=tmp_path)
    assert len(items) == 4 and ctx.warnings == []  # page 2 leads back to page 1, already read


def test_next_link_to_another_site_is_not_followed(tmp_path: Path) -> None:
    page = tmp_path / "saved.html"
    page.write_text(REVIEW_PAGE.format(
        link='<link rel="next" href="https://example.org/page2">',
        rows=ROW.format(title="t", text="Très bien", note=8, n=1, author="a"), next=""))
    items, rejected, _ = collect_all(collector(url=str(page), selectors=SELECTORS),
                                     tmp=tmp_path)
    assert len(items) == 1 and not rejected


@needs_test_data
def test_sitemap_with_filter(file_server: FileServer, tmp_path: Path) -> None:
    serve(file_server, HTML / "recipe_scrapers/recept.se/recept.html")
    serve(file_server, HTML / "recipe_scrapers/mob.co.uk/mob_2.html")
    (file_server.root / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{file_server.url(n)}</loc></url>"
                  for n in ("recept.html", "mob_2.html", "about.html"))
        + "</urlset>")
    items, _, _ = collect_all(
        collector(sitemap=file_server.url("sitemap.xml"), sitemap_filter=r"(recept|mob)"),
        tmp=tmp_path)
    assert len(reviews(items)) == 10
    assert len(collect_figures(collector(sitemap=file_server.url("sitemap.xml"),
                                         sitemap_filter=r"(recept|mob)"), tmp=tmp_path)) == 2
    assert "/about.html" not in [p for p, _ in file_server.requests]


def test_hostile_sitemap_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "sitemap.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">'
                    '<!ENTITY b "&a;&a;&a;&a;">]><urlset><url><loc>&b;</loc></url></urlset>')
    with pytest.raises(CollectError, match="not a readable sitemap"):
        collect_all(collector(sitemap=str(bomb)), tmp=tmp_path)


@needs_test_data
def test_one_missing_page_is_quarantined_the_others_read(file_server: FileServer,
                                                         tmp_path: Path) -> None:
    good = serve(file_server, HTML / "recipe_scrapers/recept.se/recept.html")
    items, rejected, _ = collect_all(collector(url=[file_server.url("gone.html"), good]),
                                     tmp=tmp_path)
    assert len(items) == 5  # the page's average rating is not an item
    assert [r.error_class for r in rejected] == ["FetchError"] and "404" in rejected[0].reason
    with pytest.raises(FetchError, match="404"):
        collect_all(collector(url=file_server.url("gone.html")), tmp=tmp_path)


RDFA = """<html><body><div vocab="https://schema.org/" typeof="Product">
<span property="name">Piscine municipale</span>
<div property="aggregateRating" typeof="AggregateRating">
<span property="ratingValue">3.5</span> / <span property="bestRating">5</span>
(<span property="reviewCount">12</span> avis)</div>
<div property="review" typeof="Review"><span property="author" typeof="Person">
<span property="name">Claire</span></span>
<div property="reviewRating" typeof="Rating"><span property="ratingValue">2</span></div>
<p property="reviewBody">Vestiaires sales, attente trop longue.</p>
<meta property="datePublished" content="2026-01-15"></div></div></body></html>"""


def test_rdfa_review_and_aggregate(tmp_path: Path) -> None:
    page = tmp_path / "rdfa.html"
    page.write_text(RDFA, encoding="utf-8")
    items, rejected, _ = collect_all(collector(url=str(page)), tmp=tmp_path)
    assert not rejected
    [review] = reviews(items)
    assert (review.text, review.author, review.rating_value) == (
        "Vestiaires sales, attente trop longue.", "Claire", 2.0)
    assert review.extra["item_reviewed"] == "Piscine municipale"
    [aggregate] = collect_figures(collector(url=str(page)), tmp=tmp_path)
    assert (aggregate.rating_value, aggregate.review_count) == (3.5, 12)
    assert aggregate.subject == "Piscine municipale" and aggregate.best_rating == 5


@pytest.mark.parametrize("options", [
    {}, {"url": ""}, {"url": "x", "selectors": {"container": "li[", "text": "p"}},
    {"url": "x", "rating_scale": "5-1"}, {"url": "x", "sitemap_filter": "("},
    {"url": "x", "max_pages": 0},
])
def test_invalid_options(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidOptions):
        validate_options("html_reviews", options)


@needs_test_data
def test_aggregate_rating_is_the_source_figures_tracked_over_time(
    factory: sessionmaker[Session], settings: Settings, file_server: FileServer, engine: Engine,
) -> None:
    """A page's average is no feedback: no item, nothing in the rollups; stored with the
    source, one row per change, shown with the source."""
    page = (HTML / "extruct/misc/null_ld_mock.html").read_text()
    (file_server.root / "p.html").write_text(page)
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="avis", kind="html_reviews",
                               options={"url": file_server.url("p.html")}).id
    first = run_source(factory, settings, source_id)
    assert (first.new, first.quarantined) == (1, 0)
    run_source(factory, settings, source_id)  # the same figures: no new row
    (file_server.root / "p.html").write_text(page.replace('"ratingCount":280', '"ratingCount":281'))
    second = run_source(factory, settings, source_id)
    assert (second.new, second.updated, second.duplicate) == (0, 0, 1)
    with session_scope(factory) as session:
        [item] = session.scalars(select(Item)).all()
        assert "Average rating" not in item.text
        history = figure_history(session, source_id)
        [latest] = latest_figures(session, [source_id])[source_id]
        assert session.scalar(select(func.count()).select_from(DailyRollup)) == 0
    assert [f.rating_count for f in history] == [281, 280]
    assert latest.rating_count == 281 and latest.subject == "Some Name Goes Here"
    assert history[1].last_seen_at > history[1].observed_at
    api = TestClient(create_app(settings, engine))
    shown = api.get(f"/api/v1/sources/{source_id}").json()
    assert shown["items"] == 1 and [f["rating_count"] for f in shown["figures"]] == [281]
    assert [f["rating_count"] for f in api.get("/api/v1/sources").json()[0]["figures"]] == [281]
    over_time = api.get(f"/api/v1/sources/{source_id}/figures").json()
    assert [(f["rating_value"], f["rating_count"]) for f in over_time] == [
        (latest.rating_value, 281), (latest.rating_value, 280)]
    assert api.get(f"/api/v1/sources/{source_id + 1}").status_code == 404


MIXED_PAGE = """<html lang="fr"><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "LocalBusiness", "name": "Mairie annexe",
 "aggregateRating": {"@type": "AggregateRating", "ratingValue": "0", "ratingCount": "0"},
 "review": [{"@type": "Review", "reviewBody": "The staff were very helpful with my passport.",
             "author": {"@type": "Person", "name": "Ann"},
             "reviewRating": {"@type": "Rating", "ratingValue": "5"}}]}
</script></head><body><ul>
<li class="avis"><p class="texte">The staff were very helpful with my passport.</p></li>
<li class="avis"><p class="texte">Guichet fermé sans prévenir, deux heures perdues.</p></li>
</ul></body></html>"""


def test_markup_reviews_and_selected_comments_no_zero_rating(tmp_path: Path) -> None:
    """The markup's review once, the comment it leaves out through the selectors, no
    figures from "0 stars from 0 ratings", and no review labelled with the page's language."""
    page = tmp_path / "mixed.html"
    page.write_text(MIXED_PAGE, encoding="utf-8")
    options = {"url": str(page), "selectors": {"container": "li.avis", "text": "p.texte"}}
    items, rejected, _ = collect_all(collector(**options), tmp=tmp_path)
    assert not rejected
    assert [(i.text, i.rating_value, i.lang) for i in items] == [
        ("The staff were very helpful with my passport.", 5.0, None),
        ("Guichet fermé sans prévenir, deux heures perdues.", None, None),
    ]
    assert collect_figures(collector(**options), tmp=tmp_path) == []
