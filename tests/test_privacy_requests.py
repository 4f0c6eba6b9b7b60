"""Erasure, access and retention on SQLite and PostgreSQL: a person's data leaves every table
(checked by inspecting the migrated database), the figures lose their contribution on erasure
and keep it on retention; quarantined payloads are stored redacted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, Table, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.domain import DeterminantMention, Prediction, SentimentScores, OVERALL
from ecoute.config.settings import Settings
from ecoute.data_requests import erase_request, export_request
from ecoute.privacy import pseudonym
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import (
    CollectionRun,
    DailyRollup,
    DeterminantTag,
    Item,
    Quarantine,
    Source,
    Tagging,
    utcnow,
)
from ecoute.store.retention import apply_retention
from ecoute.store.taggings import correct_determinant, record_predictions

EMAIL = "martine.leroy@example.org"


@pytest.fixture
def client(engine: Engine, settings: Settings, tmp_path: Path) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={"data_dir": tmp_path / "d"}), engine))


def _token(factory: sessionmaker[Session], role: str, authority: str | None) -> str:
    with session_scope(factory) as session:
        owner = ensure_authority(session, authority) if authority else None
        return create_key(session, role=role, authority=owner)[1]


def _push(client: TestClient, token: str, body: str) -> None:
    answer = client.post("/api/v1/ingest", content=body.encode(), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200, answer.text


def _records(client: TestClient, factory: sessionmaker[Session]) -> None:
    """Martine's two items (one by author, one whose text still holds her address, as stored
    before redaction existed), someone else's item, and a broken line quoting her address."""
    token = _token(factory, "ingest", "valmont")
    _push(client, token, "\n".join([
        f'{{"external_id": "m-1", "text": "Accueil très aimable", "author": "{EMAIL}"}}',
        '{"external_id": "m-2", "text": "Attente trop longue"}',
        '{"external_id": "o-1", "text": "Horaires pratiques", "author": "paul@example.org"}',
        f'{{"broken line from {EMAIL} tel 06 12 34 56 78',
    ]) + "\n")
    with session_scope(factory) as session:
        items = list(session.scalars(select(Item).order_by(Item.external_id)))
        by_id = {i.external_id: i for i in items}
        by_id["m-1"].text, by_id["m-2"].text = "Accueil très aimable", (
            f"Attente trop longue, écrivez-moi à {EMAIL}")
        by_id["o-1"].extra = {"note": "rien"}
        scores = [SentimentScores(0.1, 0.1, 0.8), SentimentScores(0.8, 0.1, 0.1),
                  SentimentScores(0.1, 0.1, 0.8)]
        ordered = [by_id["m-1"], by_id["m-2"], by_id["o-1"]]
        record_predictions(session, ordered, [
            Prediction(s, [DeterminantMention("courtesy", "positive", 0.9, 0, 7)])
            for s in scores], model_name="t", model_version="v1")
        correct_determinant(session, by_id["m-2"], determinant="waiting_time",
                            polarity="negative", user="agent")
        run = session.scalars(select(CollectionRun)).first()
        assert run is not None
        run.error = f"mail from {EMAIL.upper()} refused"
        session.get(Source, run.source_id).last_error = f"cannot read {EMAIL}"  # type: ignore[union-attr]


def _hits(engine: Engine, needles: list[str]) -> list[str]:
    """Every text, JSON and binary cell of every table holding one of ``needles``."""
    found = []
    metadata = MetaData()
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            table = Table(name, metadata, autoload_with=conn)
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    raw = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    if any(n.lower() in raw.lower() for n in needles):
                        found.append(f"{name}.{column.name}")
    return found


def _overall(session: Session) -> tuple[int, int]:
    row = session.execute(select(func.sum(DailyRollup.pos), func.sum(DailyRollup.neg))
                          .where(DailyRollup.determinant == OVERALL)).one()
    return int(row[0] or 0), int(row[1] or 0)


def test_erasure_by_email_leaves_no_trace_and_updates_the_figures(
    engine: Engine, factory: sessionmaker[Session], client: TestClient, settings: Settings,
) -> None:
    _records(client, factory)
    hashed = pseudonym(EMAIL, settings.pseudonym_key)
    assert hashed is not None
    with session_scope(factory) as session:
        assert _overall(session) == (2, 1)
        quarantined = session.scalars(select(Quarantine)).one()
        # Stored redacted: the broken line keeps its shape, not the address or the phone.
        payload = (quarantined.payload_text or (quarantined.payload_bytes or b"").decode())
        assert "[EMAIL]" in payload and "[PHONE]" in payload and EMAIL not in payload
        # Put it back as a payload stored before redaction was applied, to be erased.
        quarantined.payload_bytes = f"old line of {EMAIL}".encode()
    assert _hits(engine, [EMAIL, hashed])
    with session_scope(factory) as session:
        dry = erase_request(session, settings, email=EMAIL, dry_run=True)
    assert len(dry.items) == 2 and dry.quarantine == 1
    assert _hits(engine, [EMAIL, hashed]), "a dry run removes nothing"
    with session_scope(factory) as session:
        receipt = erase_request(session, settings, email=EMAIL)
    assert (len(receipt.items), receipt.taggings, receipt.corrections, receipt.quarantine,
            receipt.run_errors, receipt.source_errors) == (2, 2, 1, 1, 1, 1)
    assert _hits(engine, [EMAIL, hashed]) == []
    with session_scope(factory) as session:
        assert [i.external_id for i in session.scalars(select(Item))] == ["o-1"]
        assert session.scalar(select(func.count()).select_from(DeterminantTag)) == 1
        assert _overall(session) == (1, 0)  # only Paul's positive item is still counted


def test_export_gives_the_persons_items_and_quarantine(
    factory: sessionmaker[Session], client: TestClient, settings: Settings,
) -> None:
    _records(client, factory)
    with session_scope(factory) as session:
        data: dict[str, Any] = export_request(session, settings, email=EMAIL)
    assert sorted(i["external_id"] for i in data["items"]) == ["m-1", "m-2"]
    assert {d["determinant"] for i in data["items"] for d in i["determinants"]} >= {
        "courtesy", "waiting_time"}
    assert len(data["collection_runs"]) == 1 and data["matched_by"] == "email"


def test_api_erasure_is_for_admins_of_the_items_authority(
    factory: sessionmaker[Session], client: TestClient,
) -> None:
    _records(client, factory)
    body = {"email": EMAIL}
    officer = _token(factory, "officer", "valmont")
    other_admin = _token(factory, "admin", "elsewhere")
    admin = _token(factory, "admin", "valmont")
    answer = client.post("/api/v1/privacy/erasure", json=body,
                         headers={"Authorization": f"Bearer {officer}"})
    assert answer.status_code == 403
    answer = client.post("/api/v1/privacy/erasure", json=body,
                         headers={"Authorization": f"Bearer {other_admin}"})
    assert answer.status_code == 200 and answer.json()["items_removed"] == 0
    answer = client.post("/api/v1/privacy/erasure", json={},
                         headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 400
    answer = client.post("/api/v1/privacy/erasure", json=body,
                         headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["items_removed"] == 2 and answer.json()["authority"] == "valmont"
    assert EMAIL not in answer.text


@pytest.mark.parametrize("action", ["delete", "anonymise"])
def test_retention_keeps_the_figures(
    factory: sessionmaker[Session], client: TestClient, settings: Settings, action: str,
) -> None:
    _records(client, factory)
    old = utcnow() - timedelta(days=40)
    with session_scope(factory) as session:
        for item in session.scalars(select(Item).where(Item.external_id != "o-1")):
            item.collected_at = old
        before = _overall(session)
    configured = settings.model_copy(update={
        "retention_days": 0, "retention_days_by_kind": {"push": 30}, "retention_action": action})
    with session_scope(factory) as session:
        report = apply_retention(session, configured)
    counted = report.items_deleted if action == "delete" else report.items_anonymised
    assert counted == {"push": 2}
    with session_scope(factory) as session:
        assert _overall(session) == before
        items = {i.external_id: i for i in session.scalars(select(Item))}
        if action == "delete":
            assert set(items) == {"o-1"}
        else:
            assert items["m-2"].text == "" and items["m-2"].author_hash is None
            assert list(items["m-2"].extra) == ["anonymised_at"]
            assert session.scalar(select(func.count()).select_from(Tagging)) == 3
        assert items["o-1"].text == "Horaires pratiques"
    with session_scope(factory) as session:
        again = apply_retention(session, configured)
    assert not again.items_deleted and not again.items_anonymised


def test_quarantine_retention_resolved_and_unresolved(
    factory: sessionmaker[Session], client: TestClient, settings: Settings,
) -> None:
    _records(client, factory)
    now = utcnow()
    with session_scope(factory) as session:
        first = session.scalars(select(Quarantine)).one()
        rows = [Quarantine(source_id=first.source_id, error_class="E", message=name,
                           created_at=now - timedelta(days=age), resolved_at=resolved)
                for name, age, resolved in [
                    ("resolved long ago", 200, now - timedelta(days=100)),
                    ("resolved lately", 200, now - timedelta(days=10)),
                    ("unresolved old", 400, None), ("unresolved recent", 100, None)]]
        session.add_all(rows)
    with session_scope(factory) as session:
        report = apply_retention(session, settings)
        assert (report.quarantine_resolved, report.quarantine_unresolved) == (1, 1)
    with session_scope(factory) as session:
        left = {q.message for q in session.scalars(select(Quarantine))}
    assert {"resolved lately", "unresolved recent"} <= left
    assert not {"resolved long ago", "unresolved old"} & left


def test_follow_up_notes_are_exported_and_erased_with_the_item(
    engine: Engine, factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    from ecoute.store.followups import add_note, find_followup
    from tests.helpers.feedback import classify, push

    push(factory, settings, tmp_path / "in", [
        {"external_id": "p-1", "text": "Attente de trois semaines pour un acte.",
         "channel": "complaint", "author": EMAIL}])
    classify(factory, settings.model_copy(update={"followup_max_age_days": 0}))
    with session_scope(factory) as session:
        followup = find_followup(session, session.scalars(select(Item.id)).one())
        assert followup is not None
        add_note(session, followup, "Mme Leroy rappelée, dossier retrouvé", actor="key:1")
        data: dict[str, Any] = export_request(session, settings, email=EMAIL)
    [item] = data["items"]
    assert item["followup"]["status"] == "new"
    assert [e["note"] for e in item["followup"]["events"]] == [
        None, "Mme Leroy rappelée, dossier retrouvé"]
    with session_scope(factory) as session:
        erase_request(session, settings, email=EMAIL)
    assert _hits(engine, ["Mme Leroy"]) == []
