"""``ecoute demo``: the shipped samples collected, classified and served."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import func, select

from ecoute.api.app import create_app
from ecoute.config.settings import Settings
from ecoute.demo import copy_samples, prepare_demo, shift_dates
from ecoute.store.db import make_engine, make_session_factory, session_scope
from ecoute.classifiers.sentences import split_segments
from ecoute.store.models import DeterminantTag, Item, Quarantine


def test_dates_move_to_end_today(tmp_path: Path) -> None:
    paths = copy_samples(tmp_path, date(2030, 1, 15))
    rss = paths["avis-mairie"].read_text(encoding="utf-8")
    assert "15 Jan 2030" in rss and "2026" not in rss.split("<item>", 1)[1]
    assert shift_dates("<pubDate>Mon, 23 Nov 2026 09:14:00 +0100</pubDate>", 2) == \
        "<pubDate>Wed, 25 Nov 2026 09:14:00 +0100</pubDate>"
    assert shift_dates("<updated>2026-11-28T10:00:00Z</updated>", -1) == \
        "<updated>2026-11-27T10:00:00Z</updated>"


def test_demo_fills_a_fresh_database(tmp_path: Path, tiny_model_dir: Path) -> None:
    # Folders allowed to file sources that do not hold the demo: its samples are read anyway.
    base = Settings(model_dir=tiny_model_dir, cache_dir=tmp_path / "cache",
                    file_roots=[tmp_path / "exports"])
    console = Console(file=io.StringIO())
    settings = prepare_demo(console, base=base, folder=tmp_path / "demo", own_database=True)
    assert settings.database_url == f"sqlite:///{tmp_path / 'demo' / 'ecoute-demo.db'}"
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        items = session.scalar(select(func.count()).select_from(Item))
        quarantined = session.scalars(select(Quarantine)).all()
    assert items and items >= 100
    assert len(quarantined) == 1 and "malformed feed" in quarantined[0].message
    body = TestClient(create_app(settings, engine)).get(
        "/api/v1/satisfaction", params={"window": "90d"}).json()
    assert sum(f["n"] for f in body["determinants"]) > 50
    assert all(f["n"] > 0 for f in body["determinants"])
    # Running the demo again starts from scratch: same figures, no duplicates.
    prepare_demo(console, base=base, folder=tmp_path / "demo", own_database=True)
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == items
    engine.dispose()


def test_demo_spans_quote_the_stored_text(tmp_path: Path, tiny_model_dir: Path) -> None:
    """Items with a title are read as "title. text": every span must still index item.text,
    cut at the boundaries of a sentence of it."""
    base = Settings(model_dir=tiny_model_dir, cache_dir=tmp_path / "cache")
    settings = prepare_demo(Console(file=io.StringIO()), base=base, folder=tmp_path / "demo",
                            own_database=True)
    engine = make_engine(settings.database_url)
    with session_scope(make_session_factory(engine)) as session:
        rows = session.execute(select(DeterminantTag, Item).join(
            Item, Item.id == DeterminantTag.item_id)).all()
        titled = [(tag, item) for tag, item in rows if item.title and item.title not in item.text]
        spans = [(tag.span_start, tag.span_end, item.text) for tag, item in rows
                 if tag.span_start is not None]
    engine.dispose()
    assert titled and len(spans) > 100
    sentences = {(s.start, s.end, text) for _a, _b, text in spans for s in split_segments(text)}
    for start, end, text in spans:
        assert 0 <= start < end <= len(text)
        assert (start, end, text) in sentences, (text[start:end], text)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_readme_demo_command_serves_satisfaction(tmp_path: Path) -> None:
    """`ecoute demo` as README runs it: default bundled model, no network, API answering."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOUTE_")}
    env.update({"XDG_DATA_HOME": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1",
                "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(tmp_path / "cache"))})
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "ecoute", "demo", "--port", str(port)], env=env,
            stdout=output, stderr=subprocess.STDOUT, text=True,
        )
    try:
        deadline = time.monotonic() + 900
        body = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/satisfaction",
                                     params={"window": "30d"}, timeout=5)
            except httpx.TransportError:
                time.sleep(2)
                continue
            body = response.json()
            break
        assert body is not None, log.read_text()[-3000:]
        figures = {f["determinant"]: f for f in body["determinants"]}
        assert len(figures) == 7 and sum(f["n"] for f in figures.values()) > 0
        # The dashboard's address and the officer's credentials are printed; they work.
        printed = re.search(r"Dashboard: (\S+) .* sign in as (\S+) with the password (\S+)",
                            log.read_text())
        assert printed, log.read_text()[-3000:]
        url, username, password = printed.groups()
        assert url == f"http://127.0.0.1:{port}/"
        with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as browser:
            form = browser.get("/signin").text
            token = form.split('name="signin_token" value="', 1)[1].split('"', 1)[0]
            signed = browser.post("/signin", data={"signin_token": token, "username": username,
                                                   "password": password})
            assert signed.status_code == 200 and f"{username} (chargé de qualité)" in signed.text
            assert browser.get("/verbatims?window=90d").text.count('class="correct"') > 0
    finally:
        process.terminate()
        process.wait(30)


@pytest.mark.slow
def test_demo_positive_share_is_within_5_points_of_a_careful_reading(tmp_path: Path) -> None:
    """tests/fixtures/classification/demo_reading.csv labels every demo item by hand."""
    import csv

    from ecoute.store.models import Tagging

    reading_file = Path(__file__).parent / "fixtures" / "classification" / "demo_reading.csv"
    with reading_file.open(encoding="utf-8") as fh:
        reading = {row["title"]: row["sentiment"] for row in csv.DictReader(
            line for line in fh if not line.startswith("#"))}
    base = Settings(cache_dir=Settings().cache_dir, database_url="sqlite://")
    settings = prepare_demo(Console(file=io.StringIO()), base=base, folder=tmp_path / "demo",
                            own_database=True)
    engine = make_engine(settings.database_url)
    with session_scope(make_session_factory(engine)) as session:
        shown = dict(session.execute(
            select(Item.title, func.coalesce(Item.human_sentiment, Tagging.sentiment))
            .join(Tagging, (Tagging.item_id == Item.id)
                  & (Tagging.model_version == Item.classified_version))).all())
    engine.dispose()
    assert set(shown) == set(reading)  # every demo item was read
    read_share = sum(v == "positive" for v in reading.values()) / len(reading)
    shown_share = sum(v == "positive" for v in shown.values()) / len(shown)
    assert abs(shown_share - read_share) <= 0.05, (shown_share, read_share)
