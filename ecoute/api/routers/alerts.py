from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from ecoute.api.deps import AuthorityDep, OfficerKey, SessionDep, WriterSessionDep
from ecoute.api.schemas import COMMON_ERRORS, MAX_ID, AlertOut, error_responses
from ecoute.store.alerts import list_alerts, resolve_alert
from ecoute.store.models import Alert, AlertKind

router = APIRouter(tags=["alerts"], responses=COMMON_ERRORS)


def _out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id, kind=alert.kind, key=alert.key, title=alert.title, figures=alert.figures,
        raised_at=alert.raised_at, last_seen_at=alert.last_seen_at,
        resolved_at=alert.resolved_at, resolved_by=alert.resolved_by,
        active=alert.resolved_at is None,
    )


@router.get("/alerts", response_model=list[AlertOut])
def get_alerts(
    session: SessionDep,
    authority: AuthorityDep,
    state: Annotated[Literal["active", "resolved", "all"],
                     Query(description="Active alerts (default), resolved ones, or all")]
    = "active",
    kind: Annotated[AlertKind | None, Query(description="Only this kind")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertOut]:
    """The authority's alerts, newest first, with the figures that raised them: significant
    drops of a determinant, volume spikes, silent sources, phone overloads and emerging
    topics. They are evaluated after classification batches and every night."""
    active = {"active": True, "resolved": False, "all": None}[state]
    return [_out(a) for a in list_alerts(session, authority.id, active=active,
                                         kind=kind.value if kind else None, limit=limit)]


@router.post("/alerts/{alert_id}/resolve", response_model=AlertOut,
             responses=error_responses(404, 409))
def post_resolve_alert(
    alert_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the alert")],
    session: WriterSessionDep, key: OfficerKey,
) -> AlertOut:
    """A quality officer marks an alert as dealt with (officer or admin keys). It is not raised
    again while its condition lasts; once the condition has cleared, it can be again."""
    alert = resolve_alert(session, alert_id, key.authority_id,
                          by=f"key:{key.prefix}" + (f" ({key.label})" if key.label else ""))
    return _out(alert)
