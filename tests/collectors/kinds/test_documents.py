"""The documents collector: every format, the feedback filter, dates, quarantine of bad files."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.kinds.documents_text import Block, feedback_paragraphs, read_plain
from ecoute.collectors.kinds.documents import find_date
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import Item, Quarantine
from tests.helpers import documents as docs

WRITERS = {
    "txt": docs.write_txt, "md": docs.write_md, "docx": docs.write_docx,
    "odt": docs.write_odt, "pdf": docs.write_pdf,
}


def _add(factory: sessionmaker[Session], path: Path, **options: object) -> int:
    with session_scope(factory) as session:
        return add_source(session, authority="demo", name="minutes", kind="documents",
                          options={"path": str(path), **options}).id


def _items(factory: sessionmaker[Session]) -> list[Item]:
    with session_scope(factory) as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_each_format_yields_the_feedback_paragraphs(fmt: str, tmp_path: Path,
                                                     sqlite_engine: object) -> None:
    from ecoute.store.db import make_session_factory

    factory = make_session_factory(sqlite_engine)  # type: ignore[arg-type]
    settings = Settings(database_url="sqlite://", cache_dir=tmp_path / "cache")
    path = WRITERS[fmt](tmp_path / f"conseil-ecole.{fmt}")
    source_id = _add(factory, path, body="school council", lang="fr")
    report = run_source(factory, settings, source_id)
    assert (report.status, report.new, report.quarantined) == ("success", 4, 0), report.error
    items = _items(factory)
    assert [i.text for i in items] == docs.FEEDBACK
    first = items[0]
    assert first.channel == "minutes" and first.lang == "fr"
    assert first.extra["body"] == "school council"
    assert first.extra["meeting_date"] == "2026-03-12"  # from "du 12 mars 2026" in the text
    assert first.published_at is not None and first.published_at.date() == date(2026, 3, 12)


def test_folder_is_watched_and_files_are_read_once(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "cr"
    folder.mkdir()
    docs.write_docx(folder / "CR_2026-01-15.docx")
    source_id = _add(factory, folder)
    assert run_source(factory, settings, source_id).new == 4
    # The file name's date wins over the one in the text.
    assert {i.extra["meeting_date"] for i in _items(factory)} == {"2026-01-15"}
    again = run_source(factory, settings, source_id)
    assert (again.fetched, again.new) == (0, 0)  # unchanged file: not even re-read

    (folder / "suite.md").write_text(
        "# Comité d'usagers\n\nRéunion du 3 avril 2026\n\n"
        "- Les usagers trouvent la nouvelle ligne de bus très pratique et ponctuelle.\n"
        "- Le guichet ferme trop tôt le samedi, ce qui gêne les actifs.\n",
        encoding="utf-8",
    )
    (folder / "~$CR_2026-01-15.docx").write_bytes(b"lock file")
    report = run_source(factory, settings, source_id)
    assert (report.new, report.quarantined) == (2, 0)
    latest = _items(factory)[-1]
    assert latest.extra["meeting_date"] == "2026-04-03"
    assert latest.title == "Comité d'usagers"
    with session_scope(factory) as session:
        from ecoute.store.models import Source

        source = session.get(Source, source_id)
        assert source is not None
        names = {entry["name"] for entry in source.cursor["files"].values()}
        assert names == {"CR_2026-01-15.docx", "suite.md"}


def test_encrypted_and_corrupt_files_are_quarantined_others_land(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    docs.write_pdf(folder / "a-secret.pdf", password="s3cret")
    whole = docs.write_docx(tmp_path / "whole.docx").read_bytes()
    (folder / "b-truncated.docx").write_bytes(whole[: len(whole) // 2])
    (folder / "c-not-really.odt").write_bytes(b"this is plain text named .odt")
    docs.write_odt(folder / "d-good.odt")
    (folder / "e-old.xls").write_bytes(b"\xd0\xcf\x11\xe0 binary")
    source_id = _add(factory, folder)
    report = run_source(factory, settings, source_id)
    assert (report.status, report.new, report.quarantined) == ("partial", 4, 4)
    with session_scope(factory) as session:
        rows = {q.position: q for q in session.scalars(select(Quarantine))}
    assert rows["a-secret.pdf"].error_class == "EncryptedDocument"
    assert "password-protected" in rows["a-secret.pdf"].message
    assert rows["b-truncated.docx"].error_class == "CorruptDocument"
    assert "b-truncated.docx" in rows["b-truncated.docx"].message
    assert rows["c-not-really.odt"].payload_bytes == b"this is plain text named .odt"
    assert rows["e-old.xls"].error_class == "UnsupportedFormat"
    # A quarantined file is not quarantined again at every run; a fixed one is read again.
    assert run_source(factory, settings, source_id).quarantined == 0
    docs.write_pdf(folder / "a-secret.pdf")
    assert run_source(factory, settings, source_id).new == 4
    assert len(_items(factory)) == 8


def test_zip_bomb_is_refused(factory: sessionmaker[Session], settings: Settings,
                             tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * 50_000_000)
    path = tmp_path / "bomb.docx"
    path.write_bytes(buffer.getvalue())
    report = run_source(factory, settings, _add(factory, path))
    assert report.quarantined == 1
    with session_scope(factory) as session:
        row = session.scalars(select(Quarantine)).one()
    assert row.error_class == "ZipBomb"


def test_legacy_encoding_text(tmp_path: Path) -> None:
    path = docs.write_txt(tmp_path / "cr.txt", encoding="cp1252")
    blocks = read_plain(path.read_bytes(), markdown=False)
    assert feedback_paragraphs(blocks, 5) == docs.FEEDBACK


@pytest.mark.parametrize(("text", "expected"), [
    ("Compte rendu du 12 mars 2026", date(2026, 3, 12)),
    ("Séance du jeudi 1er février 2026 à 18h", date(2026, 2, 1)),
    ("cr_conseil_2026-03-12_v2", date(2026, 3, 12)),
    ("CR 12/03/2026", date(2026, 3, 12)),
    ("pv-20251107", date(2025, 11, 7)),
    ("Minutes of the meeting held on March 12, 2026", date(2026, 3, 12)),
    ("Held on 5th May 2026", date(2026, 5, 5)),
    ("Réunion du 31/02/2026 puis du 02/03/2026", date(2026, 3, 2)),  # impossible date skipped
    ("Ordre du jour", None),
])
def test_find_date(text: str, expected: date | None) -> None:
    assert find_date(text) == expected


def test_month_first_dates() -> None:
    assert find_date("03/12/2026", month_first=True) == date(2026, 3, 12)


@pytest.mark.parametrize(("text", "kept"), [
    ("Présents : Mme Durand, M. Petit, Mme Lemoine, M. Garnier.", False),
    ("Mme Durand, M. Petit, Mme Lemoine (parents), M. Garnier, Mme Roux", False),
    ("Attendees: J. Smith, K. Jones, the transport manager.", False),
    ("Présentation du projet : les habitants trouvent le nouveau parc très agréable.", True),
    ("IV - Propreté des rues", False),
    ("4) Les trottoirs de la rue Victor Hugo sont encombrés de poubelles chaque lundi.", True),
    ("Page 3 / 5", False),
    ("La séance est levée à 21 h.", False),
    ("QUESTIONS DIVERSES ET POINTS DIVERS DE LA SEANCE", False),
    ("Residents complained that the night bus no longer stops at the hospital.", True),
    ("Fait à Valmont, le 12 mars 2026.", False),
])
def test_feedback_filter(text: str, kept: bool) -> None:
    assert bool(feedback_paragraphs([Block(text)], 5)) is kept
