"""Daily volumes of classified items, read from the rollups (never from the item table)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoute.domain import OVERALL
from ecoute.store.models import DailyRollup


def daily_volumes(session: Session, authority_id: int, first: date, last: date
                  ) -> dict[tuple[date, str], int]:
    """Items per (day, channel) over ``first``..``last``: each classified item counts once in
    the ``_overall`` rollup."""
    query = (
        select(DailyRollup.day, DailyRollup.channel,
               func.sum(DailyRollup.pos + DailyRollup.neg + DailyRollup.neu))
        .where(DailyRollup.authority_id == authority_id, DailyRollup.determinant == OVERALL,
               DailyRollup.day >= first, DailyRollup.day <= last)
        .group_by(DailyRollup.day, DailyRollup.channel)
    )
    return {(day, channel): int(n or 0) for day, channel, n in session.execute(query)}
