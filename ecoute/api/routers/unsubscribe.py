"""``/unsubscribe/{token}``: the signed link of every digest e-mail, usable without signing in.

Opening the link shows a confirmation button: mail scanners that open every link of a message
must not end subscriptions. The button, and mail clients' one-click unsubscribe (RFC 8058,
the ``List-Unsubscribe-Post`` header), POST to the same address, which ends it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ecoute.api.deps import SessionDep, SettingsDep, WriterSessionDep
from ecoute.digest.render import unsubscribe_page
from ecoute.digest.subscriptions import unsubscribe
from ecoute.digest.tokens import signing_key, subscription_of
from ecoute.errors import NotFound
from ecoute.store.models import DigestSubscription

router = APIRouter(include_in_schema=False)


def _page(subscription: DigestSubscription, *, done: bool, request: Request) -> HTMLResponse:
    return HTMLResponse(unsubscribe_page(
        locale=subscription.locale, authority=subscription.authority.name,
        email=subscription.email, frequency=subscription.frequency, done=done,
        action=str(request.url.path)))


def _invalid(exc: NotFound) -> HTMLResponse:
    return HTMLResponse(unsubscribe_page(locale="en", authority="", email="", frequency="weekly",
                                         done=True, action="", message=str(exc)),
                        status_code=404)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def confirm_unsubscribe(token: str, request: Request, session: SessionDep,
                        settings: SettingsDep) -> HTMLResponse:
    try:
        subscription = subscription_of(session, token, signing_key(settings))
    except NotFound as exc:
        return _invalid(exc)
    return _page(subscription, done=subscription.unsubscribed_at is not None, request=request)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def do_unsubscribe(token: str, request: Request, session: WriterSessionDep,
                   settings: SettingsDep) -> HTMLResponse:
    try:
        subscription = subscription_of(session, token, signing_key(settings))
    except NotFound as exc:
        return _invalid(exc)
    unsubscribe(subscription)
    return _page(subscription, done=True, request=request)
