"""The overview's active alerts: each told in the page's language from the figures that raised
it, with a link to the verbatims behind it, and resolved by an officer in place (the same store
function as ``POST /api/v1/alerts/{id}/resolve``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from ecoute.api.deps import SettingsDep, WriterSessionDep
from ecoute.api.web.auth import CorrectorForm, viewer_authority
from ecoute.api.web.i18n import Translator
from ecoute.api.web.rendering import link, local_path
from ecoute.domain import OVERALL
from ecoute.store.alerts import count_active_alerts, list_alerts, resolve_alert
from ecoute.store.models import Alert, AlertKind, Authority

router = APIRouter(include_in_schema=False)
#: More than this many active alerts is a backlog: the overview lists the newest and says how
#: many more there are, with a link to list them all (``?alerts=all``, at most ALL_SHOWN).
SHOWN = 20
ALL_SHOWN = 1000


@dataclass(frozen=True)
class AlertView:
    alert: Alert
    #: What happened, in the page's language (the stored English title when the figures
    #: are not the ones this page knows).
    text: str
    #: The verbatims behind it, or None when no item is (a silent source, a phone queue).
    verbatims: str | None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _described(alert: Alert, t: Translator, slug: str | None) -> AlertView:
    f = alert.figures or {}
    base = {"authority": slug}
    kind = alert.kind
    if kind == AlertKind.DETERMINANT_DROP:
        name = str(f["determinant"])
        window = [_day(d) for d in f["window"]]
        baseline = [_day(d) for d in f["baseline"]]
        text = t("alerts.drop", determinant=t.determinant("" if name == OVERALL else name),
                 share=t.percent(f["share_positive"]), start=t.day(window[0]),
                 end=t.day(window[1]), before=t.percent(f["baseline_share_positive"]),
                 before_start=t.day(baseline[0]), before_end=t.day(baseline[1]),
                 n=t.number(f["n"]), p=t.number(f["p_value"], 3))
        return AlertView(alert, text, link(
            "/verbatims", base, determinant=None if name == OVERALL else name,
            polarity="negative", since=f["window"][0], until=f["window"][1]))
    if kind == AlertKind.VOLUME_SPIKE:
        channel = f.get("channel")
        text = t("alerts.spike", items=t.number(f["items"]),
                 channel=t.channel(channel) if channel else t("filter.all"),
                 day=t.day(_day(f["day"])), ratio=t.number(f["ratio"], 1),
                 mean=t.number(f["baseline_mean"], 1))
        return AlertView(alert, text, link("/verbatims", base, channel=channel,
                                           since=f["day"], until=f["day"]))
    if kind == AlertKind.SOURCE_SILENT:
        last = _moment(f.get("last_success_at")) if f.get("last_success_at") else None
        text = t("alerts.silent", source=f["source"],
                 last=t.moment(last) if last else t("alerts.never"))
        return AlertView(alert, text, link("/verbatims", base, source_id=f["source_id"]))
    if kind == AlertKind.PHONE_OVERLOAD:
        text = t("alerts.phone", queue=f["queue"], abandoned=t.number(f["abandoned"]),
                 offered=t.number(f["offered"]), rate=t.percent(f["abandon_rate"]),
                 until=t.moment(_moment(f["until"])))
        return AlertView(alert, text, None)
    if kind == AlertKind.EMERGING_TOPIC:
        words = [str(w) for w in f.get("label") or []]
        text = t("alerts.topic", words=" · ".join(words) or "–", items=t.number(f["items"]),
                 start=t.day(_day(f["first_day"])), end=t.day(_day(f["last_day"])))
        return AlertView(alert, text, link("/verbatims", base, polarity="negative",
                                           since=f["first_day"], until=f["last_day"],
                                           q=words[0] if words else None))
    return AlertView(alert, alert.title, None)


@dataclass(frozen=True)
class ActiveAlerts:
    shown: list[AlertView]
    total: int  # every active alert of the authority, listed or not


def active_alerts(session: Session, authority: Authority, t: Translator, slug: str | None,
                  *, every: bool = False) -> ActiveAlerts:
    """The authority's active alerts, newest first, told in ``t``'s language: the SHOWN
    newest, or all of them (up to ALL_SHOWN) when ``every``."""
    views = []
    for alert in list_alerts(session, authority.id, active=True,
                             limit=ALL_SHOWN if every else SHOWN):
        try:
            views.append(_described(alert, t, slug))
        except (KeyError, TypeError, ValueError, IndexError):
            # Figures of an older shape: the stored title still says what happened.
            views.append(AlertView(alert, alert.title, None))
    total = len(views) if len(views) < SHOWN else count_active_alerts(session, authority.id)
    return ActiveAlerts(views, total)


@router.post("/alerts/{alert_id}/resolve")
def resolve_from_overview(
    alert_id: Annotated[int, Path(ge=1, le=2**62)], session: WriterSessionDep,
    settings: SettingsDep, viewer: CorrectorForm,
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> RedirectResponse:
    scope = None
    if viewer.authority_id is not None:
        scope = viewer_authority(session, settings, viewer, None).id
    resolve_alert(session, alert_id, scope, by=f"user:{viewer.name}")
    target = local_path(back)
    path, _, query = target.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("resolved=")]
    return RedirectResponse(f"{path}?{'&'.join([*kept, f'resolved={alert_id}'])}#alerts",
                            status_code=303)
