"""Ingest under load: concurrent overlapping batches against a real server on a loopback port,
on SQLite and PostgreSQL, with corrections while they are stored."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.config.settings import Settings
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import CollectionRun, Item, RunStatus, Source

BATCHES = 50
DISTINCT = 2550
STEP = DISTINCT // BATCHES  # each batch starts here...
OVERLAP = 25  # ...and reaches this many records into each neighbour's


@pytest.fixture
def server(engine: Engine, settings: Settings, tmp_path: Path) -> Iterator[str]:
    """The API served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    app = create_app(settings.model_copy(update={"data_dir": tmp_path / "data",
                                                 "collect_batch_size": 200}), engine)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        uv.should_exit = True
        thread.join(20)
        sock.close()


def _tokens(factory: sessionmaker[Session]) -> tuple[str, str]:
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        ingest = create_key(session, role="ingest", authority=valmont)[1]
        officer = create_key(session, role="officer", authority=valmont)[1]
    return ingest, officer


def _batch(number: int) -> list[dict[str, str]]:
    first = max(0, number * STEP - OVERLAP)
    last = min(DISTINCT, (number + 1) * STEP + OVERLAP)
    return [{"external_id": f"r-{n}", "text": f"Avis numéro {n} : accueil aimable, attente "
             "trop longue au guichet."} for n in range(first, last)]


@pytest.mark.slow
def test_concurrent_overlapping_batches_are_stored_once_in_one_pass(
    server: str, factory: sessionmaker[Session],
) -> None:
    ingest, officer = _tokens(factory)
    def push(number: int) -> httpx.Response:
        with httpx.Client(base_url=server, timeout=120) as client:
            return client.post("/api/v1/ingest", json=_batch(number),
                               headers={"Authorization": f"Bearer {ingest}"})

    corrections: list[httpx.Response] = []

    def correct_during_load(item_id: int, stop: threading.Event) -> None:
        with httpx.Client(base_url=server, timeout=120) as client:
            polarity = "negative"
            while not stop.is_set():
                corrections.append(client.put(
                    f"/api/v1/items/{item_id}/determinants/waiting_time",
                    json={"polarity": polarity},
                    headers={"Authorization": f"Bearer {officer}"}))
                polarity = "positive" if polarity == "negative" else "negative"

    with ThreadPoolExecutor(BATCHES) as pool:
        answers = list(pool.map(push, range(BATCHES)))
        with session_scope(factory) as session:
            item_id = session.scalar(select(Item.id).order_by(Item.id).limit(1))
        assert item_id is not None
        stop = threading.Event()
        corrector = threading.Thread(target=correct_during_load, args=(item_id, stop))
        corrector.start()
        more = list(pool.map(push, range(0, BATCHES, 2)))  # the same records again, updated
        stop.set()
        corrector.join(60)

    problems = [(a.status_code, a.text[:200]) for a in answers + more if a.status_code != 200]
    assert problems == []
    assert all(a.json()["run"]["status"] == "success" for a in answers + more)
    assert sum(a.json()["run"]["new"] for a in answers) == DISTINCT
    assert sum(a.json()["run"]["new"] for a in more) == 0
    assert corrections and [c.status_code for c in corrections if c.status_code != 200] == []
    with session_scope(factory) as session:
        stored = session.scalar(select(func.count()).select_from(Item))
        distinct = session.scalar(select(func.count(func.distinct(Item.external_id))))
        sources = session.scalar(select(func.count()).select_from(Source))
        running = session.scalar(select(func.count()).select_from(CollectionRun)
                                 .where(CollectionRun.status == RunStatus.RUNNING))
    assert (stored, distinct, sources, running) == (DISTINCT, DISTINCT, 1, 0)
