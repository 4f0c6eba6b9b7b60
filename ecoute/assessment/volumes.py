"""How much feedback arrived, per channel, read from the rollups only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecoute.assessment.satisfaction import Filters, Window, sums_by
from ecoute.domain import OVERALL
from ecoute.store.models import Authority


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
    # Without a filter this reads the channel rows of satisfaction_rollup (whole months and
    # the days at the ends); with a site or department, daily_rollup, which holds both.
    sums = sums_by(session, authority, window,
                   Filters(site_id=site_id, department_id=department_id), "channel", (OVERALL,))
    counts = {value: pos + neg + neu for (value, _det), (pos, neg, neu, _rs, _rc) in sums.items()}
    return dict(sorted(((c, n) for c, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0])))
