"""Subscribing to, listing, ending and previewing digests: what the CLI and the API call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.digest.charts import charts
from ecoute.digest.compose import DigestSpec, compose
from ecoute.digest.periods import Period, last_complete, parse_period
from ecoute.digest.render import Rendered, render
from ecoute.digest.tokens import signing_key, unsubscribe_url
from ecoute.digest.wording import LOCALES
from ecoute.errors import Conflict, InvalidRequest, NotFound
from ecoute.store import digests
from ecoute.store.models import (
    Authority,
    Department,
    DigestFrequency,
    DigestLog,
    DigestSubscription,
    Site,
    utcnow,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: An address as mail servers take it: something@domain.tld, no spaces, no angle brackets.
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


def weekday_number(value: str | int) -> int:
    """0 (Monday) to 6, from a number or an English day name (or its first three letters)."""
    text = str(value).strip().lower()
    if text.isdigit() and 0 <= int(text) <= 6:
        return int(text)
    for number, name in enumerate(WEEKDAYS):
        if len(text) >= 3 and name.startswith(text):
            return number
    raise InvalidRequest(f"weekday {value!r} is not understood",
                         hint="write monday … sunday, or 0 (Monday) to 6 (Sunday)")


def _named(session: Session, model: type[Department] | type[Site], authority: Authority,
           name: str | None, what: str) -> int | None:
    if name is None:
        return None
    found = session.scalar(select(model.id).where(model.authority_id == authority.id,
                                                  model.name == name))
    if found is None:
        known = sorted(session.scalars(select(model.name)
                                       .where(model.authority_id == authority.id)))
        raise NotFound(f"no {what} named {name!r} in {authority.slug}",
                       hint=f"known: {', '.join(known)}" if known else
                       f"this authority has no {what} yet")
    return found


def subscribe(
    session: Session, authority: Authority, *, email: str, locale: str | None = None,
    frequency: str = "weekly", weekday: str | int = "monday", hour: int = 8,
    department: str | None = None, site: str | None = None,
) -> DigestSubscription:
    email = email.strip()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidRequest(f"{email!r} is not an e-mail address",
                             hint="write it as name@example.org")
    locale = (locale or authority.locale or "fr").lower()
    if locale not in LOCALES:
        raise InvalidRequest(f"language {locale!r} is not available for digests",
                             hint=f"choose one of {', '.join(LOCALES)}")
    if frequency not in tuple(DigestFrequency):
        raise InvalidRequest(f"frequency {frequency!r} is not understood",
                             hint="choose weekly or monthly")
    if not 0 <= int(hour) <= 23:
        raise InvalidRequest(f"hour {hour} is not an hour of the day", hint="0 to 23")
    scope = {"department_id": _named(session, Department, authority, department, "department"),
             "site_id": _named(session, Site, authority, site, "site")}
    if digests.active_duplicate(session, authority_id=authority.id, email=email,
                                frequency=frequency, **scope):
        raise Conflict(f"{email} already receives this {frequency} digest",
                       hint="`ecoute digest list` shows it; unsubscribe it first to change it")
    return digests.add_subscription(
        session, authority_id=authority.id, email=email, locale=locale, frequency=frequency,
        weekday=weekday_number(weekday), hour=int(hour), **scope)


def unsubscribe(subscription: DigestSubscription) -> None:
    if subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = utcnow()


def find(session: Session, authority: Authority, which: str) -> list[DigestSubscription]:
    """The active subscriptions named by a number or an address."""
    if which.strip().isdigit():
        return [digests.get_subscription(session, int(which), authority.id)]
    found = [s for s in digests.list_subscriptions(session, authority.id)
             if s.email.lower() == which.strip().lower()]
    if not found:
        raise NotFound(f"no active digest subscription for {which!r} in {authority.slug}",
                       hint="`ecoute digest list` shows the subscriptions")
    return found


@dataclass(frozen=True)
class SubscriptionView:
    subscription: DigestSubscription
    last: DigestLog | None


def overview(session: Session, authority: Authority, *,
             include_unsubscribed: bool = False) -> list[SubscriptionView]:
    rows = digests.list_subscriptions(session, authority.id,
                                      include_unsubscribed=include_unsubscribed)
    last = digests.latest_logs(session, [s.id for s in rows])
    return [SubscriptionView(s, last.get(s.id)) for s in rows]


def preview_spec(session: Session, authority: Authority, subscription_id: int | None, *,
                 locale: str | None = None, frequency: str = "weekly") -> DigestSpec:
    if subscription_id is not None:
        return DigestSpec.of(digests.get_subscription(session, subscription_id, authority.id))
    chosen = (locale or authority.locale or "fr").lower()
    if chosen not in LOCALES:
        raise InvalidRequest(f"language {chosen!r} is not available for digests",
                             hint=f"choose one of {', '.join(LOCALES)}")
    if frequency not in tuple(DigestFrequency):
        raise InvalidRequest(f"frequency {frequency!r} is not understood",
                             hint="choose weekly or monthly")
    return DigestSpec(authority, chosen, frequency)


def preview_period(spec: DigestSpec, period: str | None, now: datetime | None = None) -> Period:
    if period:
        chosen = parse_period(period)
        if chosen.frequency != spec.frequency:
            raise InvalidRequest(
                f"{period} is not a {spec.frequency} period",
                hint="a week is written 2026-W47, a month 2026-11")
        return chosen
    today = (now or utcnow()).astimezone(ZoneInfo(spec.authority.timezone)).date()
    return last_complete(spec.frequency, today)


def preview(session: Session, settings: Settings, spec: DigestSpec, period: Period, *,
            unsubscribe_link: bool = True) -> Rendered:
    """The digest as its recipient would read it, charts inlined (a standalone HTML page);
    with ``unsubscribe_link``, the subscription's own link (which ends it: not for readers of
    the API)."""
    digest = compose(session, settings, spec, period)
    link = None
    if spec.subscription_id is not None and unsubscribe_link:
        link = unsubscribe_url(settings.public_base_url,
                               digests.get_subscription(session, spec.subscription_id),
                               signing_key(settings))
    return render(digest, charts(digest), unsubscribe_url=link, inline_images=True,
                  lexicon=settings.determinants_file)
