"""The sources pages: health of every source, its quarantine (retry, dismiss), and sources
added, changed or disabled through their collector's options as a form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from ecoute.api.deps import SessionDep, SettingsDep, WriterSessionDep
from ecoute.api.web.auth import (
    AdministratorForm,
    CorrectorForm,
    ReaderDep,
    Viewer,
    viewer_authority,
)
from ecoute.api.web.overview import AuthoritySlug, IdQuery
from ecoute.api.web.rendering import link, page
from ecoute.api.web.source_forms import form_fields, read_form, validation_errors
from ecoute.collectors.quarantine import dismiss_entry, retry_entry
from ecoute.collectors.registry import collectors, get_collector
from ecoute.collectors.service import add_source, change_source, source_views
from ecoute.config.settings import Settings
from ecoute.errors import ConfigError, Forbidden, InvalidRequest, SourceNotFound
from ecoute.privacy import redact_payload
from ecoute.store.db import session_scope
from ecoute.store.models import Authority, Source
from ecoute.store.quarantine import QuarantineFilters, get_entry, list_entries, unresolved_counts
from ecoute.store.sources import get_source

router = APIRouter(include_in_schema=False)
SourceId = Annotated[int, Path(ge=1, le=2**62)]
#: Longest payload shown on the page; the rest is summarised by its length.
PAYLOAD_SHOWN = 20_000


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, session: SessionDep, settings: SettingsDep,
                 viewer: ReaderDep, authority: AuthoritySlug = None) -> HTMLResponse:
    owner = viewer_authority(session, settings, viewer, authority)
    # The same view of a source as GET /api/v1/sources and `ecoute sources list`; the page
    # also counts every unresolved quarantine entry, to link to them.
    views = source_views(session, settings, owner.id)
    held = unresolved_counts(session, [v.id for v in views])
    rows = [{"source": v, "items": v.items, "quarantined": held.get(v.id, 0),
             "health": v.health, "error": v.last_error} for v in views]
    return page(request, "sources.html", viewer=viewer, authority=owner, nav="sources",
                rows=rows, params={"authority": authority})


@router.get("/sources/quarantine", response_class=HTMLResponse)
def quarantine_page(request: Request, session: SessionDep, settings: SettingsDep,
                    viewer: ReaderDep, authority: AuthoritySlug = None,
                    source_id: IdQuery = None,
                    offset: Annotated[int, Query(ge=0, le=2**31)] = 0) -> HTMLResponse:
    owner = viewer_authority(session, settings, viewer, authority)
    entries, total = list_entries(
        session, QuarantineFilters(authority_id=owner.id, source_id=source_id),
        limit=20, offset=offset)
    shown = []
    for entry, name in entries:
        payload: str | bytes = entry.payload_bytes if entry.payload_bytes is not None \
            else entry.payload_text or ""
        # Stored redacted already; masked again with today's patterns, which may be more.
        masked = redact_payload(payload, settings.redact_patterns)
        text = masked.decode("utf-8", "replace") if isinstance(masked, bytes) else masked
        shown.append({"entry": entry, "source": name, "payload": text[:PAYLOAD_SHOWN],
                      "cut": max(0, len(text) - PAYLOAD_SHOWN)})
    params = {"authority": authority, "source_id": source_id}
    return page(request, "quarantine.html", viewer=viewer, authority=owner, nav="sources",
                entries=shown, total=total, offset=offset, params=params,
                next_link=link("/sources/quarantine", params, offset=offset + 20)
                if offset + 20 < total else None)


def _scope(viewer: Viewer) -> int | None:
    return viewer.authority_id


@router.post("/sources/quarantine/{entry_id}/retry")
def retry(entry_id: SourceId, request: Request, settings: SettingsDep,
          viewer: CorrectorForm) -> RedirectResponse:
    result = retry_entry(request.app.state.session_factory, settings, entry_id,
                         authority_id=_scope(viewer))
    outcome = "stored" if result.resolved else "waiting"
    return RedirectResponse(link("/sources/quarantine", done=outcome, entry=entry_id),
                            status_code=303)


@router.post("/sources/quarantine/{entry_id}/dismiss")
def dismiss(entry_id: SourceId, session: WriterSessionDep, viewer: CorrectorForm
            ) -> RedirectResponse:
    dismiss_entry(session, get_entry(session, entry_id, _scope(viewer)))
    return RedirectResponse(link("/sources/quarantine", done="dismissed", entry=entry_id),
                            status_code=303)


def _own_source(session: Session, settings: Settings, viewer: Viewer, source_id: int) -> Source:
    source = get_source(session, source_id)
    owner = viewer_authority(session, settings, viewer, None) if viewer.authority_id else None
    if source.removed_at is not None or (owner is not None and source.authority_id != owner.id):
        raise SourceNotFound(f"no source with id {source_id}")
    return source


def _form_page(request: Request, viewer: Viewer, authority: Authority, kind: str, *,
               source: Source | None, values: dict[str, Any], errors: dict[str, str],
               general: str | None = None, status_code: int = 200) -> HTMLResponse:
    options_cls = get_collector(kind).Options
    return page(request, "source_form.html", viewer=viewer, authority=authority, nav="sources",
                kind=kind, source=source, fields=form_fields(options_cls, values, errors),
                errors=errors, general=general, values=values, kinds=list(collectors()),
                status_code=status_code)


def _administrator_only(viewer: Viewer) -> None:
    if not viewer.can_administer:
        raise Forbidden("only administrators can add or change sources",
                        hint="sign in with an admin account")


@router.get("/sources/new", response_class=HTMLResponse)
def new_source_page(request: Request, session: SessionDep, settings: SettingsDep,
                    viewer: ReaderDep, kind: Annotated[str, Query(max_length=64)] = "rss"
                    ) -> HTMLResponse:
    _administrator_only(viewer)
    owner = viewer_authority(session, settings, viewer, None)
    get_collector(kind)
    return _form_page(request, viewer, owner, kind, source=None, values={}, errors={})


@router.get("/sources/{source_id}/edit", response_class=HTMLResponse)
def edit_source_page(request: Request, source_id: SourceId, session: SessionDep,
                     settings: SettingsDep, viewer: ReaderDep) -> HTMLResponse:
    _administrator_only(viewer)
    source = _own_source(session, settings, viewer, source_id)
    return _form_page(request, viewer, source.authority, source.kind, source=source,
                      values={**source.options, "schedule": source.schedule}, errors={})


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/sources/new", response_model=None)
async def create_source(request: Request, viewer: AdministratorForm
                        ) -> HTMLResponse | RedirectResponse:
    posted = await _posted(request)
    return await run_in_threadpool(_create, request, viewer, posted)


def _create(request: Request, viewer: Viewer, posted: dict[str, str]
            ) -> HTMLResponse | RedirectResponse:
    settings: Settings = request.app.state.settings
    kind = posted.get("kind", "")
    options_cls = get_collector(kind).Options
    with session_scope(request.app.state.writer_factory) as session:
        owner = viewer_authority(session, settings, viewer, None)
        options, errors = read_form(options_cls, posted)
        errors |= validation_errors(options_cls, options)
        name = posted.get("name", "").strip()
        if not name:
            errors["name"] = "give the source a name"
        values = {**options, "name": name, "schedule": posted.get("schedule", "")}
        if errors:
            return _form_page(request, viewer, owner, kind, source=None, values=values,
                              errors=errors, status_code=422)
        try:
            source = add_source(session, authority=owner.slug, name=name, kind=kind,
                                options=options, schedule=posted.get("schedule") or None)
        except (ConfigError, InvalidRequest) as exc:
            session.rollback()
            return _form_page(request, viewer, owner, kind, source=None, values=values,
                              errors={}, general=str(exc), status_code=422)
        source_id = source.id
    return RedirectResponse(link("/sources", done="added", source=source_id), status_code=303)


@router.post("/sources/{source_id}/edit", response_model=None)
async def update_source(request: Request, source_id: SourceId, viewer: AdministratorForm
                        ) -> HTMLResponse | RedirectResponse:
    posted = await _posted(request)
    return await run_in_threadpool(_update, request, viewer, source_id, posted)


def _update(request: Request, viewer: Viewer, source_id: int, posted: dict[str, str]
            ) -> HTMLResponse | RedirectResponse:
    settings: Settings = request.app.state.settings
    with session_scope(request.app.state.writer_factory) as session:
        source = _own_source(session, settings, viewer, source_id)
        options_cls = get_collector(source.kind).Options
        options, errors = read_form(options_cls, posted, stored=source.options)
        errors |= validation_errors(options_cls, options)
        values = {**options, "schedule": posted.get("schedule", "")}
        if errors:
            return _form_page(request, viewer, source.authority, source.kind, source=source,
                              values=values, errors=errors, status_code=422)
        # Every option of the form is given: one left empty goes back to its default.
        changed = {name: options.get(name) for name in options_cls.model_fields}
        try:
            change_source(session, source, options=changed,
                          schedule=posted.get("schedule") or None)
        except (ConfigError, InvalidRequest) as exc:
            session.rollback()
            return _form_page(request, viewer, source.authority, source.kind, source=source,
                              values=values, errors={}, general=str(exc), status_code=422)
    return RedirectResponse(link("/sources", done="changed", source=source_id),
                            status_code=303)


@router.post("/sources/{source_id}/enabled")
def set_enabled(source_id: SourceId, session: WriterSessionDep, settings: SettingsDep,
                viewer: AdministratorForm,
                enabled: Annotated[str, Form(pattern="^(true|false)$")]) -> RedirectResponse:
    source = _own_source(session, settings, viewer, source_id)
    change_source(session, source, enabled=enabled == "true")
    return RedirectResponse(link("/sources", done="enabled" if enabled == "true"
                                 else "disabled", source=source_id), status_code=303)
