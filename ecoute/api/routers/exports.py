"""Exports for spreadsheets: the items of ``GET /api/v1/items`` (same filters) as CSV or
XLSX, and the satisfaction figures of ``GET /api/v1/satisfaction`` (same window and filters)
as XLSX. All streamed: an export of every item holds one page of them in memory."""

from __future__ import annotations


from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ecoute.api.deps import AuthorityDep, SessionDep, SettingsDep
from ecoute.api.exports import (
    ITEM_HEADER,
    csv_stream,
    item_rows,
    satisfaction_sheets,
    xlsx_stream,
)
from ecoute.api.filter_params import ChannelFilter, DepartmentFilter, RollingWindow, SiteFilter
from ecoute.api.item_query import ItemFiltersDep
from ecoute.api.schemas import COMMON_ERRORS
from ecoute.assessment.satisfaction import authority_today, parse_window, satisfaction

router = APIRouter(tags=["exports"], responses=COMMON_ERRORS)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FILE = {200: {"description": "The file, streamed"}}


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/exports/items.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "The items"}})
def export_items_csv(request: Request, filters: ItemFiltersDep) -> StreamingResponse:
    """Every item the filters of `GET /api/v1/items` select, newest first, as CSV (UTF-8)."""
    rows = item_rows(request.app.state.session_factory, filters)
    return StreamingResponse(csv_stream(ITEM_HEADER, rows), media_type="text/csv; charset=utf-8",
                             headers=_attachment("items.csv"))


@router.get("/exports/items.xlsx", response_class=StreamingResponse,
            responses={200: {"content": {XLSX: {}}, "description": "The items"}})
def export_items_xlsx(request: Request, filters: ItemFiltersDep) -> StreamingResponse:
    """Every item the filters of `GET /api/v1/items` select, newest first, as a workbook."""
    rows = item_rows(request.app.state.session_factory, filters)
    return StreamingResponse(xlsx_stream([("items", ITEM_HEADER, rows)]), media_type=XLSX,
                             headers=_attachment("items.xlsx"))


@router.get("/exports/satisfaction.xlsx", response_class=StreamingResponse,
            responses={200: {"content": {XLSX: {}}, "description": "The figures"}})
def export_satisfaction_xlsx(
    session: SessionDep,
    settings: SettingsDep,
    authority: AuthorityDep,
    window: RollingWindow = "30d",
    channel: ChannelFilter = None,
    site_id: SiteFilter = None,
    department_id: DepartmentFilter = None,
) -> StreamingResponse:
    """The figures of `GET /api/v1/satisfaction` for the same window and filters, as a
    workbook: one row per determinant, and a sheet saying what they cover."""
    span = parse_window(window, authority_today(authority))
    channel_name = channel.value if channel else None
    report = satisfaction(session, authority, span, min_sample_size=settings.min_sample_size,
                          channel=channel_name, site_id=site_id, department_id=department_id)
    sheets = satisfaction_sheets(authority.slug, window, report, {
        "channel": channel_name, "site_id": site_id, "department_id": department_id})
    return StreamingResponse(xlsx_stream(sheets), media_type=XLSX,
                             headers=_attachment("satisfaction.xlsx"))
