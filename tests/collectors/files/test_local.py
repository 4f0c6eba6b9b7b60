"""Local reading is for configured paths inside ECOUTE_FILE_ROOTS; addresses found in fetched
documents are only ever fetched over http(s), and their refusal never tells what exists."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from ecoute.collectors.base import CollectContext
from ecoute.collectors.kinds.html_reviews import HtmlReviewsCollector
from ecoute.collectors.http.client import HttpFetcher
from ecoute.collectors.files.local import (
    allowed_roots,
    configured_path,
    found_url,
    read_configured,
)
from ecoute.collectors.kinds.rss import RssCollector
from ecoute.collectors.kinds.survey_file import SurveyFileCollector
from ecoute.config.settings import Settings
from ecoute.errors import BlockedURL, CollectError
from tests.helpers.collect import collect_all
from tests.helpers.servers import FileServer

REVIEW_PAGE = """<html lang="fr"><body><script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "LocalBusiness", "name": "Mairie",
  "review": [{{"@type": "Review", "reviewBody": "{text}", "author": "a",
              "reviewRating": {{"ratingValue": 4, "bestRating": 5}}}}]}}
</script></body></html>"""


def html_reviews(**options: Any) -> HtmlReviewsCollector:
    return HtmlReviewsCollector(HtmlReviewsCollector.Options(**options))


def test_sitemap_locations_are_fetched_never_read_from_the_disk(
    file_server: FileServer, tmp_path: Path,
) -> None:
    secret = tmp_path / "secret.html"  # inside the allowed folders: the sitemap still may not
    secret.write_text(REVIEW_PAGE.format(text="SECRET-ON-DISK"))
    (file_server.root / "page.html").write_text(REVIEW_PAGE.format(text="Accueil parfait"))
    locs = [file_server.url("page.html"), secret.as_uri(), str(secret), "/proc/self/environ",
            "file:///no/such/folder/x.html", "gopher://127.0.0.1:70/_x", "ftp://127.0.0.1/x"]
    (file_server.root / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{loc}</loc></url>" for loc in locs) + "</urlset>")
    items, rejected, _ = collect_all(html_reviews(sitemap=file_server.url("sitemap.xml")),
                                     tmp=tmp_path)
    assert [i.text for i in items if "review" in str(i.extra.get("record", "review"))] == \
        ["Accueil parfait"]
    assert all("SECRET-ON-DISK" not in i.text for i in items)
    assert {r.payload for r in rejected} == set(locs[1:])
    assert {r.error_class for r in rejected} == {"BlockedURL"}
    # The reason is the same whether the file exists or not: nothing to learn from it.
    reasons = {r.payload: r.reason.replace(str(r.payload), "<loc>") for r in rejected}
    assert reasons[secret.as_uri()] == reasons["file:///no/such/folder/x.html"]
    assert not any("No such file" in r.reason or "cannot read" in r.reason for r in rejected)


def test_a_web_page_next_link_to_a_local_file_is_not_read(
    file_server: FileServer, tmp_path: Path,
) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text(REVIEW_PAGE.format(text="SECRET-ON-DISK"))
    page = REVIEW_PAGE.format(text="Bon accueil").replace(
        "<body>", f'<body><a rel="next" href="{secret.as_uri()}">suite</a>')
    (file_server.root / "p1.html").write_text(page)
    items, _, _ = collect_all(html_reviews(url=file_server.url("p1.html")), tmp=tmp_path)
    assert items and all("SECRET-ON-DISK" not in i.text for i in items)


def test_found_addresses_must_be_web_addresses() -> None:
    assert found_url("https://a.example/x", found_in="s") == "https://a.example/x"
    for url in ("file:///etc/passwd", "/etc/passwd", "gopher://a.example/", "ftp://a/x",
                "http:///nohost"):
        with pytest.raises(BlockedURL, match="not followed"):
            found_url(url, found_in="https://a.example/sitemap.xml")


@pytest.mark.parametrize("location", ["gopher://127.0.0.1:70/_GET", "ftp://127.0.0.1/feed",
                                      "dict://127.0.0.1:11211/stat"])
def test_other_schemes_are_refused_not_read_as_paths(location: str, tmp_path: Path) -> None:
    with pytest.raises(BlockedURL, match="only http"):
        collect_all(RssCollector(RssCollector.Options(url=location)), tmp=tmp_path)


def test_configured_paths_stay_inside_the_roots(tmp_path: Path) -> None:
    root, outside = tmp_path / "exports", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (outside / "private.txt").write_text("private")
    (root / "link.txt").symlink_to(outside / "private.txt")
    (root / "ok.txt").write_text("ok")
    roots = [root.resolve()]
    assert read_configured(str(root / "ok.txt"), roots) == b"ok"
    assert read_configured((root / "ok.txt").as_uri(), roots) == b"ok"
    assert read_configured("https://a.example/feed", roots) is None
    refusals = []
    for location in (str(outside / "private.txt"), str(outside / "missing.txt"),
                     str(root / "link.txt"), str(root / ".." / "elsewhere" / "private.txt")):
        with pytest.raises(BlockedURL, match="outside the folders") as caught:
            read_configured(location, roots)
        assert "ECOUTE_FILE_ROOTS" in str(caught.value)
        refusals.append(str(caught.value).replace(location, "<path>"))
    assert len(set(refusals)) == 1  # an existing and a missing file are refused alike


@pytest.mark.parametrize("location", ["/proc/self/environ", "file:///proc/self/environ",
                                      "/sys/kernel/hostname", "/dev/zero"])
def test_kernel_and_device_trees_are_never_read_even_under_an_allowed_root(
    location: str,
) -> None:
    with pytest.raises(BlockedURL, match="never read"):
        configured_path(location, [Path("/")])


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "feed.xml"
    os.mkfifo(fifo)
    outcome: list[BaseException | bytes | None] = []

    def read() -> None:
        try:
            outcome.append(read_configured(str(fifo), [tmp_path.resolve()]))
        except BlockedURL as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # unblock the reader before failing
        with open(fifo, "wb"):
            pass
    assert outcome and isinstance(outcome[0], BlockedURL)
    assert "not a regular file" in str(outcome[0])


def test_a_watched_folder_skips_links_out_of_the_roots_and_fifos(tmp_path: Path) -> None:
    folder, outside = tmp_path / "drop", tmp_path / "private"
    folder.mkdir()
    outside.mkdir()
    (outside / "answers.csv").write_text("comment\nfrom outside\n")
    (folder / "answers.csv").write_text("comment\nfrom the drop folder\n")
    (folder / "escape.csv").symlink_to(outside / "answers.csv")
    os.mkfifo(folder / "pipe.csv")
    collector = SurveyFileCollector(SurveyFileCollector.Options(
        path=str(folder), pattern="*.csv", text_columns=["comment"]))
    settings = Settings(file_roots=[folder])
    with HttpFetcher() as http:
        ctx = CollectContext(source_name="t", options=collector.options, settings=settings,
                             http=http)
        texts = [getattr(o, "text", None) for o in collector.collect(ctx)]
    assert texts == ["from the drop folder"]


def test_a_source_path_outside_the_roots_fails_with_what_to_do(tmp_path: Path) -> None:
    settings = Settings(file_roots=[tmp_path / "allowed"])
    collector = SurveyFileCollector(SurveyFileCollector.Options(
        path="/etc", text_columns=["comment"]))
    with HttpFetcher() as http, pytest.raises(CollectError, match="ECOUTE_FILE_ROOTS"):
        ctx = CollectContext(source_name="t", options=collector.options, settings=settings,
                             http=http)
        list(collector.collect(ctx))


def test_default_roots_keep_the_demo_and_uploads(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOUTE_FILE_ROOTS", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=tmp_path / "data")
    roots = allowed_roots(settings)
    assert tmp_path.resolve() in roots and (tmp_path / "data").resolve() in roots
    assert any(r.name == "ecoute" for r in roots)  # the user's data directory: the demo
    monkeypatch.setenv("ECOUTE_FILE_ROOTS", f"/srv/exports{os.pathsep}/srv/surveys")
    assert Settings().file_roots == [Path("/srv/exports"), Path("/srv/surveys")]
