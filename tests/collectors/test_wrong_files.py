"""A file that is not what its source reads is quarantined with the reason, never a silent
success with nothing stored."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.files.encodings import looks_binary
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import RunStatus
from tests.collectors.file_helpers import collect, items, rejected, stored
from tests.helpers import emails

XML = "<?xml version='1.0'?>\n<export>\n<avis>Accueil aimable</avis>\n<avis>Trop lent</avis>\n" \
    "<avis>Merci</avis>\n</export>\n"
CSV = "id,texte\n1,Accueil aimable\n2,Trop lent\n"


def _random_bytes(size: int = 5000) -> bytes:
    data = random.Random(12).randbytes(size)
    return data.replace(b"From ", b"from ")


@pytest.mark.parametrize("name, content", [
    ("export.bin", _random_bytes()), ("export.xml", XML.encode()), ("export.csv", CSV.encode()),
    ("message.eml", b"Subject: hello\n\nNo mbox separator line here.\n"),
])
def test_mailbox_quarantines_a_file_that_is_not_an_mbox(
    tmp_path: Path, name: str, content: bytes
) -> None:
    (tmp_path / name).write_bytes(content)
    cursor: dict[str, object] = {}
    out = collect("mailbox", cursor=cursor, path=str(tmp_path / name))
    assert items(out) == []
    [refusal] = rejected(out)
    assert refusal.error_class == "UnsupportedFormat" and "not an mbox file" in refusal.reason
    # Read again at the next run: not quarantined a second time.
    assert collect("mailbox", cursor=cursor, path=str(tmp_path / name)) == []


def test_an_empty_mbox_is_an_empty_mailbox(tmp_path: Path) -> None:
    (tmp_path / "empty.mbox").write_bytes(b"\n\n")
    assert collect("mailbox", path=str(tmp_path / "empty.mbox")) == []


def test_a_real_mbox_still_reads(tmp_path: Path) -> None:
    emails.write_mbox(tmp_path / "box.mbox", [emails.plain_reply()])
    out = collect("mailbox", path=str(tmp_path / "box.mbox"))
    assert len(items(out)) == 1 and not rejected(out)


@pytest.mark.parametrize("name, content, says", [
    ("answers.xml", XML.encode(), "XML or HTML"),
    ("answers.csv", XML.encode(), "XML or HTML"),
    ("answers.csv", _random_bytes(), "binary"),
    ("page.html", b"<!DOCTYPE html><html><body><p>Avis</p></body></html>", "XML or HTML"),
])
def test_survey_and_complaint_files_refuse_xml_and_binary(
    tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    (tmp_path / name).write_bytes(content)
    for kind in ("survey_file", "complaint_log"):
        out = collect(kind, path=str(tmp_path / name))
        assert items(out) == [], kind
        [refusal] = rejected(out)
        assert says in refusal.reason, (kind, refusal.reason)


def test_utf16_tables_are_not_taken_for_binary() -> None:
    text = "id;texte\n1;Très bien reçu\n2;Attente trop longue\n"
    assert not looks_binary(text.encode("utf-16-le"))
    assert not looks_binary(text.encode("utf-16"))
    assert not looks_binary(text.encode("cp1252"))
    assert looks_binary(_random_bytes(4096))


@pytest.mark.parametrize("kind, name, content", [
    ("mailbox", "export.csv", CSV.encode()),
    ("survey_file", "answers.xml", XML.encode()),
    ("documents", "minutes.pdf", b"this is not a PDF at all\n"),
])
def test_the_run_is_partial_with_the_reason_in_quarantine(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path, kind: str, name: str,
    content: bytes,
) -> None:
    (tmp_path / name).write_bytes(content)
    with session_scope(factory) as session:
        source_id = add_source(session, authority="a", name="s", kind=kind,
                               options={"path": str(tmp_path / name)}).id
    report = run_source(factory, settings, source_id)
    assert (report.status, report.new, report.quarantined) == (RunStatus.PARTIAL, 0, 1)
    found, quarantined = stored(factory)
    assert found == [] and quarantined[0].message.startswith(name)
