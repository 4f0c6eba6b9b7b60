"""``/backup-calls/{token}/accept`` and ``/decline``: the signed links of a volunteer's call,
usable without signing in.

Opening a link shows what it is about and a button: mail scanners that open every link of a
message must not answer for the volunteer. The button POSTs to the same address, which
records the answer.
"""

from __future__ import annotations

from html import escape
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from ecoute.api.deps import SessionDep, SettingsDep, WriterSessionDep
from ecoute.assessment.backup_team import answer_call
from ecoute.digest.backup_notices import call_of
from ecoute.digest.tokens import signing_key
from ecoute.errors import Conflict, NotFound
from ecoute.store.models import BackupActivation, BackupCall, BackupTeam, CallStatus, utcnow

router = APIRouter(include_in_schema=False)
Action = Literal["accept", "decline"]
QUESTIONS = {"accept": ("Je viens en renfort", "I can help"),
             "decline": ("Je ne suis pas disponible", "I am not available")}
DONE = {CallStatus.ACCEPTED: ("Merci : votre renfort est enregistré.",
                              "Thank you: you are counted in."),
        CallStatus.DECLINED: ("C'est noté : vous n'êtes pas disponible.",
                              "Noted: you are not available.")}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width\"><title>{escape(title)}</title>"
        f"</head><body><main><h1>{escape(title)}</h1>{body}</main></body></html>",
        status_code=status)


def _about(session: Session, call: BackupCall) -> str:
    activation = session.get(BackupActivation, call.activation_id)
    team = session.get(BackupTeam, activation.team_id) if activation else None
    if activation is None or team is None:
        return ""
    state = ("en cours / under way" if activation.ended_at is None
             else "terminé / over")
    return (f"<p>{escape(team.name)} — {escape(team.queue)} "
            f"({activation.started_at:%d/%m/%Y %H:%M} UTC, {state})</p>")


@router.get("/backup-calls/{token}/{action}", response_class=HTMLResponse)
def confirm_answer(token: str, action: Action, request: Request, session: SessionDep,
                   settings: SettingsDep) -> HTMLResponse:
    try:
        call = call_of(session, token, signing_key(settings))
    except NotFound as exc:
        return _page("Lien non valide / Invalid link", f"<p>{escape(str(exc))}</p>", 404)
    french, english = QUESTIONS[action]
    return _page(f"{french} / {english}", _about(session, call)
                 + f"<form method=\"post\" action=\"{escape(str(request.url.path))}\">"
                 f"<button type=\"submit\">{escape(french)} / {escape(english)}</button></form>")


@router.post("/backup-calls/{token}/{action}", response_class=HTMLResponse)
def record_answer(token: str, action: Action, session: WriterSessionDep,
                  settings: SettingsDep) -> HTMLResponse:
    try:
        call = call_of(session, token, signing_key(settings))
    except NotFound as exc:
        return _page("Lien non valide / Invalid link", f"<p>{escape(str(exc))}</p>", 404)
    try:
        answer_call(session, call, accept=action == "accept", now=utcnow())
    except Conflict as exc:
        return _page("Merci / Thank you", f"<p>{escape(str(exc))}</p>", 409)
    french, english = DONE[CallStatus(call.status)]
    return _page(f"{french} / {english}", _about(session, call))
