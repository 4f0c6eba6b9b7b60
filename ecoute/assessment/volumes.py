"""How much feedback arrived, per channel, read from DailyRollup only."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoute.assessment.satisfaction import Window
from ecoute.domain import OVERALL
from ecoute.store.models import Authority, DailyRollup


def channel_volumes(
    session: Session,
    authority: Authority,
    window: Window,
    *,
    site_id: int | None = None,
    department_id: int | None = None,
) -> dict[str, int]:
    """Classified items per channel over ``window``, largest first (each item counts once
    in the overall rollup, whatever its sentiment)."""
    query = (
        select(DailyRollup.channel,
               func.sum(DailyRollup.pos + DailyRollup.neg + DailyRollup.neu))
        .where(
            DailyRollup.authority_id == authority.id,
            DailyRollup.day >= window.start,
            DailyRollup.day <= window.end,
            DailyRollup.determinant == OVERALL,
        )
        .group_by(DailyRollup.channel)
    )
    if site_id is not None:
        query = query.where(DailyRollup.site_id == site_id)
    if department_id is not None:
        query = query.where(DailyRollup.department_id == department_id)
    counts = {str(channel): int(n or 0) for channel, n in session.execute(query)}
    return dict(sorted(((c, n) for c, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0])))
