"""The trends page: one series per determinant, by week or month, with interval bands."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ecoute.api.deps import SessionDep, SettingsDep
from ecoute.api.web.auth import ReaderDep, viewer_authority
from ecoute.api.web.charts import Point, series_chart
from ecoute.api.web.figures import Filters, Period, combinable, trend
from ecoute.api.web.i18n import Translator, negotiate
from ecoute.api.web.overview import AuthoritySlug, IdQuery, places
from ecoute.api.web.rendering import link, page
from ecoute.assessment.satisfaction import authority_today
from ecoute.domain import DETERMINANTS, Channel
from ecoute.store.rollups import values_seen
from ecoute.store.sources import list_sources

router = APIRouter(include_in_schema=False)


def _label(t: Translator, step: str, start: date) -> str:
    return t.month(start) if step == "month" else t("week_of", day=t.day(start))


def _series(t: Translator, step: str, periods: list[Period], key: str,
            params: dict[str, object]) -> dict[str, object]:
    rows, points = [], []
    for period in periods:
        figure = period.figures[key]
        label = _label(t, step, period.window.start)
        href = link("/verbatims", {k: v for k, v in params.items() if k != "step"},
                    determinant=key or None, since=period.window.start.isoformat(),
                    until=period.window.end.isoformat())
        rows.append({"label": label, "figure": figure, "href": href})
        short = t.month(period.window.start) if step == "month" else \
            t.day(period.window.start).rsplit(" ", 1)[0].rstrip(",")
        points.append(Point(label, short, figure.share_positive,
                            figure.interval.low if figure.interval else None,
                            figure.interval.high if figure.interval else None,
                            figure.sufficient, href))
    return {"key": key, "rows": rows, "chart": series_chart(points)}


@router.get("/trends", response_class=HTMLResponse)
def trends_page(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: ReaderDep,
    authority: AuthoritySlug = None,
    step: Annotated[str, Query(pattern="^(week|month)$")] = "month",
    channel: Channel | None = None, site_id: IdQuery = None, department_id: IdQuery = None,
    source_id: IdQuery = None, lang: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    owner = viewer_authority(session, settings, viewer, authority)
    filters = Filters(channel=channel.value if channel else None, site_id=site_id,
                      department_id=department_id, source_id=source_id,
                      lang=(lang or "").strip().lower() or None)
    t = Translator(negotiate(request, owner.locale))
    params: dict[str, object] = {"authority": authority, "step": step,
                                 "channel": filters.channel, "site_id": site_id,
                                 "department_id": department_id, "source_id": source_id,
                                 "lang": filters.lang}
    # A source or a language crossed with another filter is not kept in any rollup: the
    # page says so beside the form instead of failing.
    combined = combinable(filters)
    series = []
    if combined:
        periods = trend(session, owner, step, authority_today(owner),
                        min_sample_size=settings.min_sample_size, filters=filters)
        series = [_series(t, step, periods, key, params) for key in ("", *DETERMINANTS)]
    languages = [code for code in values_seen(session, owner.id, "lang") if code]
    return page(request, "trends.html", viewer=viewer, authority=owner, nav="trends",
                series=series, step=step, params=params, combined=combined,
                sources=[(s.id, s.name) for s, _n in list_sources(session, owner.id)],
                language_options=[(code, code) for code in languages],
                **places(session, owner))
