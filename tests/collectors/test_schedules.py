"""Schedule strings → APScheduler triggers, in the authority's timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ecoute.errors import InvalidSchedule
from ecoute.collectors.schedules import fingerprint, parse_schedule


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("every 30 minutes", 1800), ("every hour", 3600), ("Every 2 Hours", 7200),
     ("every 1 day", 86400), ("every 3 days", 3 * 86400), ("every week", 7 * 86400),
     ("every  15   min", 900)],
)
def test_intervals(text: str, seconds: int) -> None:
    trigger = parse_schedule(text, "Europe/Paris")
    assert trigger is not None
    assert trigger.interval.total_seconds() == seconds  # type: ignore[attr-defined]


def test_cron_uses_crontab_weekdays_in_the_authority_timezone() -> None:
    # crontab: 1 = Monday (APScheduler's own numbering would make it Tuesday).
    trigger = parse_schedule("cron: 0 7 * * 1", "Europe/Paris")
    assert trigger is not None
    after = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday
    fire = trigger.get_next_fire_time(None, after)
    assert fire is not None
    local = fire.astimezone(ZoneInfo("Europe/Paris"))
    assert (local.weekday(), local.hour, local.minute) == (0, 7, 0)
    assert fire.astimezone(UTC).hour == 6  # 07:00 in Paris is 06:00 UTC in winter
    sunday = parse_schedule("cron: 30 18 * * 0", "UTC")
    assert sunday is not None
    assert sunday.get_next_fire_time(None, after).weekday() == 6  # type: ignore[union-attr]


@pytest.mark.parametrize("text", [None, "manual", "never", " Manual "])
def test_manual_sources_get_no_trigger(text: str | None) -> None:
    assert parse_schedule(text, "UTC") is None


@pytest.mark.parametrize(
    ("text", "words"),
    [("every 0 minutes", "at least 1"), ("every 10 seconds", "once a minute"),
     ("each tuesday", "cannot read"), ("cron: 0 7 * *", "5 cron fields"),
     ("cron: 99 7 * * 1", "cron"), ("cron: 0 7 * * 9", "day of week 9")],
)
def test_bad_schedules_say_what_to_write(text: str, words: str) -> None:
    with pytest.raises(InvalidSchedule) as info:
        parse_schedule(text, "UTC")
    assert words in str(info.value)
    assert "every 30 minutes" in str(info.value) or "once a minute" in str(info.value)


def test_unknown_timezone() -> None:
    with pytest.raises(InvalidSchedule, match="Europe/Paris"):
        parse_schedule("every hour", "Mars/Olympus")


def test_fingerprint_changes_with_schedule_or_timezone() -> None:
    base = fingerprint("every 30 minutes", "Europe/Paris")
    assert fingerprint("every  30 minutes", "Europe/Paris") == base
    assert fingerprint("every 31 minutes", "Europe/Paris") != base
    assert fingerprint("every 30 minutes", "UTC") != base


def test_when_a_source_should_have_run_n_times() -> None:
    from datetime import UTC

    from ecoute.collectors.schedules import nth_fire_after

    after = datetime(2026, 12, 2, 12, 10, tzinfo=UTC)  # a Wednesday
    assert nth_fire_after("every 2 hours", "Europe/Paris", after, 3) == datetime(
        2026, 12, 2, 18, 10, tzinfo=UTC)
    # Mondays at 07:00 in Paris (06:00 UTC in winter): the third Monday after.
    third = nth_fire_after("cron: 0 7 * * 1", "Europe/Paris", after, 3)
    assert third is not None and third.astimezone(UTC) == datetime(
        2026, 12, 21, 6, tzinfo=UTC)
    assert nth_fire_after("manual", "UTC", after, 3) is None
    assert nth_fire_after("every now and then", "UTC", after, 3) is None
