"""Digest subscriptions (admin keys, of the key's authority) and the digest preview."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from ecoute.api.deps import (
    AuthorityDep,
    AuthorityQuery,
    SessionDep,
    SettingsDep,
    WriterSessionDep,
    require_key,
    scoped_authority,
)
from ecoute.api.schemas import (
    COMMON_ERRORS,
    MAX_ID,
    DigestSubscriptionIn,
    DigestSubscriptionOut,
    error_responses,
)
from ecoute.digest.subscriptions import (
    WEEKDAYS,
    SubscriptionView,
    overview,
    preview,
    preview_period,
    preview_spec,
    subscribe,
    unsubscribe,
)
from ecoute.store.digests import get_subscription
from ecoute.store.models import ApiKey, Role

router = APIRouter(tags=["digests"], responses=COMMON_ERRORS)

AdminKey = Annotated[ApiKey, Depends(require_key(Role.ADMIN))]
SubscriptionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the subscription")]


def _view(view: SubscriptionView) -> DigestSubscriptionOut:
    s, last = view.subscription, view.last
    return DigestSubscriptionOut(
        id=s.id, email=s.email, language=s.locale, frequency=s.frequency,
        weekday=WEEKDAYS[s.weekday], hour=s.hour, department_id=s.department_id,
        site_id=s.site_id, created_at=s.created_at, unsubscribed_at=s.unsubscribed_at,
        last_period=last.period if last else None, last_status=last.status if last else None,
        last_error=last.error if last else None)


@router.get("/digests/subscriptions", response_model=list[DigestSubscriptionOut])
def list_digest_subscriptions(
    session: SessionDep, settings: SettingsDep, key: AdminKey, authority: AuthorityQuery = None,
    include_unsubscribed: Annotated[bool, Query(description="Also the ended ones")] = False,
) -> list[DigestSubscriptionOut]:
    """The authority's digest subscriptions with their latest digest (admin keys)."""
    owner = scoped_authority(session, settings, key, authority)
    return [_view(v) for v in overview(session, owner,
                                       include_unsubscribed=include_unsubscribed)]


@router.post("/digests/subscriptions", response_model=DigestSubscriptionOut, status_code=201,
             responses=error_responses(404, 409))
def create_digest_subscription(
    body: DigestSubscriptionIn, session: WriterSessionDep, settings: SettingsDep,
    key: AdminKey, authority: AuthorityQuery = None,
) -> DigestSubscriptionOut:
    """Send the digest to an address (admin keys)."""
    owner = scoped_authority(session, settings, key, authority)
    created = subscribe(session, owner, email=body.email, locale=body.language,
                        frequency=body.frequency, weekday=body.weekday, hour=body.hour,
                        department=body.department, site=body.site)
    return _view(SubscriptionView(created, None))


@router.delete("/digests/subscriptions/{subscription_id}", response_model=DigestSubscriptionOut,
               responses=error_responses(404))
def end_digest_subscription(
    subscription_id: SubscriptionId, session: WriterSessionDep, settings: SettingsDep,
    key: AdminKey, authority: AuthorityQuery = None,
) -> DigestSubscriptionOut:
    """Stop sending a subscription's digests; it stays listed with `include_unsubscribed`."""
    owner = scoped_authority(session, settings, key, authority)
    subscription = get_subscription(session, subscription_id, owner.id)
    unsubscribe(subscription)
    views = {v.subscription.id: v for v in overview(session, owner, include_unsubscribed=True)}
    return _view(views[subscription.id])


# ``Response``, not HTMLResponse: the error answers stay documented as JSON.
@router.get("/digests/preview", response_class=Response,
            responses={200: {"content": {"text/html": {}, "text/plain": {}},
                             "description": "The digest as its recipient would read it"},
                       **error_responses(404)})
def preview_digest(
    session: SessionDep, settings: SettingsDep, authority: AuthorityDep,
    subscription: Annotated[int | None, Query(
        ge=1, le=MAX_ID, description="Subscription whose digest to show; empty: the "
        "authority-wide one")] = None,
    period: Annotated[str | None, Query(
        max_length=16, description="2026-W47 (a week) or 2026-11 (a month); empty: the last "
        "complete one")] = None,
    language: Annotated[Literal["fr", "en"] | None, Query(
        description="Without a subscription: the language (default: the authority's)")] = None,
    frequency: Annotated[Literal["weekly", "monthly"], Query(
        description="Without a subscription: weekly or monthly")] = "weekly",
    format: Annotated[Literal["html", "text"], Query(
        description="The HTML part (charts inlined) or the plain-text part")] = "html",
) -> Response:
    """The digest of the last complete period (or of `period`), as it would be e-mailed; the
    unsubscribe link is left out."""
    spec = preview_spec(session, authority, subscription, locale=language, frequency=frequency)
    rendered = preview(session, settings, spec, preview_period(spec, period),
                       unsubscribe_link=False)
    if format == "text":
        return PlainTextResponse(rendered.text)
    return HTMLResponse(rendered.html)
