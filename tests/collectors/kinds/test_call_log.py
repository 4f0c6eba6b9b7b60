"""Phone-system interval exports: layouts, values, quarantine, CallStat upserts, figures."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.base import CallInterval, Rejected
from ecoute.collectors.kinds.call_log import parse_count, parse_seconds, parse_share
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.assessment.calls import call_stats
from ecoute.store.db import session_scope
from ecoute.store.models import CallStat, Item, Quarantine, RunStatus, Site
from tests.collectors.file_helpers import collect
from tests.conftest import FIXTURES

CALL_LOGS = FIXTURES / "call_log"
REPORT = CALL_LOGS / "queue_interval_report_fr.csv"


def intervals(entries: list[CallInterval | Rejected]) -> list[CallInterval]:
    return [e for e in entries if isinstance(e, CallInterval)]


def rejected(entries: list[CallInterval | Rejected]) -> list[Rejected]:
    return [e for e in entries if isinstance(e, Rejected)]


def figures(found: list[CallInterval]) -> set[tuple[object, ...]]:
    return {(c.queue, c.interval_start, c.offered, c.answered, c.abandoned, c.avg_wait_seconds,
             c.max_wait_seconds, c.service_level and round(c.service_level, 2),
             c.service_level_seconds, c.agents)
            for c in found}


def test_french_queue_interval_report() -> None:
    out = collect("call_log", path=str(REPORT))
    assert not rejected(out)
    found = intervals(out)
    # 2 queues x 2 days x 20 half-hours; title lines and the three total lines skipped.
    assert len(found) == 80
    assert {c.queue for c in found} == {"Accueil mairie", "État civil"}
    first = found[0]
    assert first.queue == "Accueil mairie"
    assert first.interval_start == datetime(2024, 3, 4, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    assert (first.offered, first.answered, first.abandoned) == (12, 11, 1)
    assert (first.avg_wait_seconds, first.max_wait_seconds) == (54.0, 151.0)
    assert first.service_level == pytest.approx(0.867) and first.service_level_seconds == 20
    assert first.agents == 3.0 and first.extra == {"file": REPORT.name, "line": 6}
    # No end column: the length is the step between a queue's consecutive intervals.
    assert {c.interval_minutes for c in found} == {30}
    assert sum(c.offered for c in found) == 743  # the report's own grand total


def test_report_with_bare_title_lines_needs_no_delimiter_option(tmp_path: Path) -> None:
    # As docs/call_log.md shows it: title lines without the ";;;;" padding Excel adds, so the
    # first records give the delimiter away only once the header comes.
    lines = REPORT.read_text(encoding="utf-8-sig").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("File d'attente"))
    bare = [line.rstrip(";") for line in lines[:header]] + lines[header:]
    path = tmp_path / "rapport.csv"
    path.write_text("\n".join(bare) + "\n", encoding="utf-8")
    out = collect("call_log", path=str(path))
    assert not rejected(out)
    found = intervals(out)
    assert len(found) == 80 and sum(c.offered for c in found) == 743


def test_english_xlsx_export_holds_the_same_figures() -> None:
    found = intervals(collect("call_log", path=str(CALL_LOGS / "interval_export_en.xlsx")))
    assert len(found) == 80 and all(c.interval_minutes == 30 for c in found)
    same_day = intervals(collect("call_log", path=str(REPORT)))
    # Date + "08:00 - 08:30" ranges, [h]:mm:ss waits and 0.867-style levels read as the
    # French report's seconds and "86,7 %".
    assert figures(found) == figures(same_day)


def test_single_queue_export_with_date_time_and_end_columns() -> None:
    out = collect("call_log", path=str(CALL_LOGS / "single_queue_quarter_hours.csv"),
                  queue="Standard", site="Mairie annexe Nord", service_level_seconds=30)
    first, second, third = intervals(out)
    assert first.queue == "Standard" and first.site == "Mairie annexe Nord"
    assert first.interval_start == datetime(2024, 3, 4, 7, 0, tzinfo=UTC)
    assert first.interval_minutes == 15 and first.service_level == 1.0
    assert first.service_level_seconds == 30
    assert (second.avg_wait_seconds, second.max_wait_seconds) == (25.0, 90.0)
    assert second.service_level == pytest.approx(0.857)
    # Empty cells of an interval without answered calls: zero calls, no wait figures.
    assert (third.offered, third.answered, third.abandoned) == (9, 0, 0)
    assert third.avg_wait_seconds is None and third.service_level is None
    [alone] = intervals(collect("call_log", path=str(CALL_LOGS / "broken_rows.csv"),
                                columns={"offered": "Reçus", "answered": "Décrochés",
                                         "abandoned": "Perdus"}, interval_minutes=30)[:2])
    assert alone.interval_minutes == 30  # the option, when the export does not say


def test_unreadable_rows_are_rejected_with_file_line_and_reason() -> None:
    out = collect("call_log", path=str(CALL_LOGS / "broken_rows.csv"),
                  columns={"offered": "Reçus", "answered": "Décrochés", "abandoned": "Perdus"})
    assert [c.extra["line"] for c in intervals(out)] == [2, 10]
    reasons = {r.position: r.reason for r in rejected(out)}
    assert set(reasons) == {f"broken_rows.csv:{n}" for n in range(3, 10)}
    assert "'douze' is not a whole number" in reasons["broken_rows.csv:3"]
    assert "interval start is missing" in reasons["broken_rows.csv:4"]
    assert "14 calls answered but only 10 offered" in reasons["broken_rows.csv:5"]
    assert "'135%' is not a percentage" in reasons["broken_rows.csv:6"]
    assert "columns swapped" in reasons["broken_rows.csv:7"]
    assert "'demain matin' is not a date" in reasons["broken_rows.csv:8"]
    assert "'vingt' is not a duration" in reasons["broken_rows.csv:9"]
    assert all(r.reason.startswith("broken_rows.csv, line ") for r in rejected(out))


def test_missing_columns_and_broken_workbook_quarantine_the_file(tmp_path: Path) -> None:
    out = collect("call_log", path=str(CALL_LOGS / "broken_rows.csv"))
    [bad] = out
    assert isinstance(bad, Rejected) and bad.position == "broken_rows.csv"
    assert "offered, answered" in bad.reason and "Reçus" in bad.reason  # what the line has
    [bad] = collect("call_log", path=str(CALL_LOGS / "truncated.xlsx"))
    assert isinstance(bad, Rejected) and "truncated.xlsx" in bad.reason
    (tmp_path / "empty.csv").write_text("")
    [bad] = collect("call_log", path=str(tmp_path / "empty.csv"))
    assert isinstance(bad, Rejected) and "empty" in bad.reason


@pytest.mark.parametrize(("text", "seconds"), [
    ("42", 42.0), ("42,5", 42.5), ("42 s", 42.0), ("01:23", 83.0), ("0:01:23", 83.0),
    ("1:00:00", 3600.0), ("1 day, 0:00:10", 86410.0), ("", None), ("-", None),
])
def test_durations(text: str, seconds: float | None) -> None:
    assert parse_seconds(text) == seconds


@pytest.mark.parametrize(("text", "share"), [
    ("85%", 0.85), ("85,3 %", 0.853), ("0.85", 0.85), ("85", 0.85), ("100%", 1.0), ("0", 0.0),
    ("", None),
])
def test_service_levels(text: str, share: float | None) -> None:
    assert parse_share(text) == pytest.approx(share) if share is not None else (
        parse_share(text) is None)


@pytest.mark.parametrize("text", ["-3", "abc", "1:xx"])
def test_bad_durations_raise(text: str) -> None:
    with pytest.raises(ValueError):
        parse_seconds(text)


def test_counts() -> None:
    assert [parse_count(v) for v in ("12", "12.0", "1 234", "", "-", "1,5", "-2", "x")] == [
        12, 12, 1234, 0, 0, None, None, None]


def _stats(factory: sessionmaker[Session]) -> dict[tuple[str, datetime], CallStat]:
    with session_scope(factory) as session:
        rows = list(session.scalars(select(CallStat)))
        session.expunge_all()
    return {(r.queue, r.interval_start): r for r in rows}


def test_store_dry_run_rerun_and_corrected_export(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "acd"
    folder.mkdir()
    shutil.copy(REPORT, folder / "2024-03-05.csv")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="standard", kind="call_log",
                               options={"path": str(folder),
                                        "department": "Relation usagers"}).id

    dry = run_source(factory, settings, source_id, dry_run=True)
    assert (dry.fetched, len(dry.preview)) == (80, 80) and not _stats(factory)
    assert "12 offered, 11 answered" in dry.preview[0].text

    first = run_source(factory, settings, source_id)
    assert first.status == RunStatus.SUCCESS
    assert (first.fetched, first.new, first.updated, first.duplicate) == (80, 80, 0, 0)
    stored = _stats(factory)
    assert len(stored) == 80
    row = stored["Accueil mairie", datetime(2024, 3, 4, 7, 0, tzinfo=UTC)]
    assert (row.offered, row.answered, row.abandoned, row.service_level_seconds) == (
        12, 11, 1, 20)
    assert row.department_id is not None and row.extra["line"] == 6
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0  # figures, not text

    assert run_source(factory, settings, source_id).fetched == 0  # file already imported

    # The same figures exported again (another generation time): nothing new, nothing changed.
    text = REPORT.read_text(encoding="utf-8-sig")
    (folder / "again.csv").write_text(text.replace("07:02", "07:45"), encoding="utf-8-sig")
    again = run_source(factory, settings, source_id)
    assert (again.fetched, again.new, again.updated, again.duplicate) == (80, 0, 0, 80)

    # A corrected export: two intervals' figures changed, the rest identical.
    corrected = text.replace("Accueil mairie;04/03/2024 08:00;12;11;1;54;151;86,7 %;3",
                             "Accueil mairie;04/03/2024 08:00;13;11;2;54;151;80,0 %;3")
    corrected = corrected.replace("État civil;05/03/2024 17:30;3;3;0;55;213;90,7 %;2",
                                  "État civil;05/03/2024 17:30;4;3;1;55;213;75,0 %;2")
    assert corrected.count("\n") == text.count("\n") and corrected != text
    (folder / "corrected.csv").write_text(corrected, encoding="utf-8-sig")
    fixed = run_source(factory, settings, source_id)
    assert (fixed.new, fixed.updated, fixed.duplicate) == (0, 2, 78)
    after = _stats(factory)
    assert len(after) == 80
    row = after["Accueil mairie", datetime(2024, 3, 4, 7, 0, tzinfo=UTC)]
    assert (row.offered, row.abandoned, row.service_level) == (13, 2, pytest.approx(0.8))
    assert row.updated_at is not None and row.extra["file"] == "corrected.csv"


def test_bad_rows_quarantined_good_ones_stored_with_sites(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "broken.csv"
    shutil.copy(CALL_LOGS / "broken_rows.csv", path)
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="standard", kind="call_log",
                               options={"path": str(path), "site": "Standard mairie",
                                        "columns": {"offered": "Reçus", "answered": "Décrochés",
                                                    "abandoned": "Perdus"}}).id
    report = run_source(factory, settings, source_id)
    assert report.status == RunStatus.PARTIAL
    assert (report.new, report.quarantined) == (2, 7)
    with session_scope(factory) as session:
        positions = sorted(session.scalars(select(Quarantine.position)))
        site = session.scalar(select(Site).where(Site.name == "Standard mairie"))
        assert site is not None
        assert {s.site_id for s in session.scalars(select(CallStat))} == {site.id}
    assert positions == [f"broken.csv:{n}" for n in range(3, 10)]


def test_call_stats_figures(factory: sessionmaker[Session], settings: Settings,
                            tmp_path: Path) -> None:
    expected = intervals(collect("call_log", path=str(REPORT)))
    with session_scope(factory) as session:
        source = add_source(session, authority="demo", name="standard", kind="call_log",
                            options={"path": str(REPORT)})
        source_id, authority_id = source.id, source.authority_id
    assert run_source(factory, settings, source_id).new == 80

    monday = datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC)
    rows = [c for c in expected if c.queue == "État civil"
            and monday[0] <= c.interval_start < monday[1]]
    with session_scope(factory) as session:
        figures = call_stats(session, authority_id, *monday, queue="État civil")
        everything = call_stats(session, authority_id, datetime(2024, 1, 1, tzinfo=UTC),
                                datetime(2025, 1, 1, tzinfo=UTC))
        nothing = call_stats(session, authority_id, datetime(2023, 1, 1, tzinfo=UTC),
                             datetime(2023, 2, 1, tzinfo=UTC))
        other_authority = call_stats(session, authority_id + 1, *monday)
    offered = sum(c.offered for c in rows)
    answered = sum(c.answered for c in rows)
    abandoned = sum(c.abandoned for c in rows)
    assert (figures.intervals, figures.offered, figures.answered, figures.abandoned) == (
        20, offered, answered, abandoned)
    assert figures.abandon_rate == pytest.approx(abandoned / offered)
    assert figures.answer_rate == pytest.approx(answered / offered)
    waited = [c for c in rows if c.avg_wait_seconds is not None]
    assert figures.avg_wait_seconds == pytest.approx(
        sum(c.avg_wait_seconds * c.answered for c in waited)  # type: ignore[operator]
        / sum(c.answered for c in waited))
    assert figures.max_wait_seconds == max(c.max_wait_seconds or 0 for c in rows)
    levelled = [c for c in rows if c.service_level is not None]
    assert figures.service_level == pytest.approx(
        sum(c.service_level * c.offered for c in levelled)  # type: ignore[operator]
        / sum(c.offered for c in levelled))
    # Monday morning's overload of the civil registry queue shows in its figures.
    assert figures.abandon_rate > 0.1 and figures.service_level < 0.8
    assert everything.intervals == 80 and everything.offered == 743
    assert nothing.intervals == 0 and nothing.offered == 0
    assert nothing.abandon_rate is None and nothing.avg_wait_seconds is None
    assert nothing.service_level is None and nothing.max_wait_seconds is None
    assert other_authority.intervals == 0


def test_calls_waiting_column_in_french_and_english(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """An "Appels en attente" (or "Calls waiting") column gives the calls waiting at the end
    of each interval; an empty cell is not reported, a word is quarantined."""
    path = CALL_LOGS / "calls_waiting_fr.csv"
    out = collect("call_log", path=str(path))
    assert [c.waiting for c in intervals(out)] == [0, 6, None]
    [bad] = rejected(out)
    assert "calls waiting 'beaucoup'" in bad.reason and bad.position.endswith(":5")
    english = tmp_path / "export.csv"
    english.write_text("Queue,Interval start,Calls offered,Calls answered,Calls waiting\n"
                       "Main,2024-03-04 08:00,10,9,3\n", encoding="utf-8")
    [main] = intervals(collect("call_log", path=str(english)))
    assert main.waiting == 3 and "3 waiting" in main.text
    no_column = intervals(collect("call_log", path=str(REPORT)))
    assert {c.waiting for c in no_column} == {None}
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="acd", kind="call_log",
                               options={"path": str(path)}).id
    run_source(factory, settings, source_id)
    assert sorted((r.waiting is None, r.waiting) for r in _stats(factory).values()) == [
        (False, 0), (False, 6), (True, None)]
