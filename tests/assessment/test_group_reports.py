"""Every determinant of every department or site from one read of the rollups: the same
figures as one filter at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.satisfaction import Filters, group_reports, satisfaction
from ecoute.assessment.windows import Window, parse_window
from ecoute.errors import InvalidRequest
from ecoute.store.authorities import get_authority, list_departments, list_sites
from ecoute.store.db import session_scope
from tests.store.test_rollups import _fill

WINDOWS = [parse_window("2026-Q1", date(2026, 6, 1)), parse_window("2026-03", date(2026, 6, 1)),
           Window(date(2026, 3, 15), date(2026, 11, 3)), parse_window("2026", date(2026, 6, 1))]


@pytest.mark.parametrize("by", ["department", "site"])
def test_group_reports_equal_one_filter_at_a_time(factory: sessionmaker[Session],
                                                  by: str) -> None:
    _fill(factory, count=120)
    with session_scope(factory) as session:
        authority = get_authority(session, "valmont")
        listed = list_departments if by == "department" else list_sites
        ids = [g.id for g in listed(session, authority.id)]
        values = [str(i) for i in ids] + ["999999"]  # and a group with no mention
        statements: list[str] = []
        event.listen(session.get_bind(), "before_cursor_execute",
                     lambda *args: statements.append(str(args[2])))
        found_any = False
        for window in WINDOWS:
            statements.clear()
            reports = group_reports(session, authority, window, by, values, min_sample_size=3)
            assert len(statements) == 1
            assert set(reports) == set(values)
            for group_id in ids:
                one = Filters(department_id=group_id) if by == "department" else \
                    Filters(site_id=group_id)
                alone = satisfaction(session, authority, window, min_sample_size=3,
                                     filters=one)
                assert reports[str(group_id)] == alone
                found_any = found_any or alone.overall.n > 0
            assert reports["999999"].overall.n == 0
        assert found_any
        with pytest.raises(InvalidRequest):
            group_reports(session, authority, WINDOWS[0], "postcode", values)
