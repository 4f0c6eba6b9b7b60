"""What one digest says: the figures of the last complete period for a subscription's scope,
what changed, the alerts, the volume by channel, what people wrote about the determinants that
matter this time, and the sources to look at. Pure data; ``render`` turns it into an e-mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.digest.figures import (
    AVERAGE_PERIODS,
    AlertLine,
    FigureLine,
    figure_lines,
    period_alerts,
    period_report,
)
from ecoute.digest.periods import Period, previous
from ecoute.store.digest_content import (
    Mention,
    SourceActivity,
    channel_volumes,
    representative_mentions,
    source_activity,
)
from ecoute.store.models import Authority, Department, DigestSubscription, Site

#: Determinants quoted per digest, and quotes per determinant.
NOTABLE_DETERMINANTS = 3
MAX_QUOTES = 5
MIN_QUOTES = 3
#: Characters of a quote; a longer sentence is cut at a word.
QUOTE_CHARS = 320


@dataclass(frozen=True)
class DigestSpec:
    """What to compose: a subscription's scope, or an authority-wide preview."""

    authority: Authority
    locale: str
    frequency: str
    department_id: int | None = None
    site_id: int | None = None
    subscription_id: int | None = None
    email: str | None = None

    @classmethod
    def of(cls, subscription: DigestSubscription) -> DigestSpec:
        return cls(subscription.authority, subscription.locale, subscription.frequency,
                   subscription.department_id, subscription.site_id, subscription.id,
                   subscription.email)


@dataclass(frozen=True)
class Quotes:
    determinant: str
    polarity: str
    mentions: list[Mention]


@dataclass(frozen=True)
class ChannelVolume:
    channel: str
    items: int
    previous_items: int


@dataclass(frozen=True)
class SourceNote:
    kind: str  # "failed" or "silent"
    source: SourceActivity


@dataclass
class Digest:
    spec: DigestSpec
    period: Period
    scope: str | None  # department or site name; None: the whole authority
    min_sample_size: int
    overall: FigureLine
    figures: list[FigureLine]
    volumes: list[ChannelVolume]
    alerts: list[AlertLine]
    quotes: list[Quotes]
    sources: list[SourceNote]
    dashboard_url: str
    composed_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def items(self) -> int:
        return sum(v.items for v in self.volumes)

    @property
    def empty(self) -> bool:
        """Too little to say anything about satisfaction (the e-mail says so)."""
        return not self.overall.sufficient and not any(f.sufficient for f in self.figures)


def dashboard_url(base: str, authority: Authority, period: Period, *,
                  department_id: int | None = None, site_id: int | None = None) -> str:
    """The dashboard page showing the same figures (calendar window of the period)."""
    query: dict[str, str | int] = {"authority": authority.slug, "window": period.key}
    if department_id is not None:
        query["department_id"] = department_id
    if site_id is not None:
        query["site_id"] = site_id
    return f"{base.rstrip('/')}/?{urlencode(query)}"


def notable(figures: list[FigureLine]) -> list[tuple[str, str]]:
    """(determinant, polarity to quote) of the determinants worth quoting: significant drops
    first (what went wrong), then significant rises (what went right), then the ones most
    criticised this period."""
    chosen: list[tuple[str, str]] = []
    for line in figures:
        if line.change == "down":
            chosen.append((line.determinant, "negative"))
    for line in figures:
        if line.change == "up":
            chosen.append((line.determinant, "positive"))
    taken = {d for d, _ in chosen}
    for line in sorted(figures, key=lambda f: (-f.negative, f.determinant)):
        if line.determinant not in taken and line.negative > 0:
            chosen.append((line.determinant, "negative"))
            taken.add(line.determinant)
    return chosen[:NOTABLE_DETERMINANTS]


def _cut(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= QUOTE_CHARS:
        return text
    return text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


def pick_quotes(mentions: list[Mention], quoted_items: set[int]) -> list[Mention]:
    """Up to MAX_QUOTES of the most confident mentions, one per source first (so that one
    loud source does not speak for all), then others to reach MIN_QUOTES; no text twice and
    no item already quoted in ``quoted_items`` (which it extends)."""
    picked: list[Mention] = []
    seen_sources: set[int] = set()
    seen_texts: set[str] = set()
    for first_pass in (True, False):
        for m in mentions:
            text = _cut(m.text)
            if len(picked) >= (MAX_QUOTES if first_pass else MIN_QUOTES) or text in seen_texts \
                    or m.item_id in quoted_items:
                continue
            if first_pass and m.source_id in seen_sources:
                continue
            seen_sources.add(m.source_id)
            seen_texts.add(text)
            quoted_items.add(m.item_id)
            picked.append(Mention(m.item_id, text, m.source, m.source_id, m.channel,
                                  m.published_at, m.confidence, m.url))
    return picked


def _scope_name(session: Session, spec: DigestSpec) -> str | None:
    names = []
    if spec.department_id is not None and (d := session.get(Department, spec.department_id)):
        names.append(d.name)
    if spec.site_id is not None and (s := session.get(Site, spec.site_id)):
        names.append(s.name)
    return " / ".join(names) or None


def compose(session: Session, settings: Settings, spec: DigestSpec, period: Period) -> Digest:
    authority = spec.authority
    zone = ZoneInfo(authority.timezone)
    scope: dict[str, Any] = {"department_id": spec.department_id, "site_id": spec.site_id}
    min_n = settings.min_sample_size
    before = previous(period)
    oldest = before
    for _ in range(AVERAGE_PERIODS - 1):
        oldest = previous(oldest)
    current = period_report(session, authority, period.start, period.end,
                            min_sample_size=min_n, **scope)
    last = period_report(session, authority, before.start, before.end,
                         min_sample_size=min_n, **scope)
    history = period_report(session, authority, oldest.start, before.end,
                            min_sample_size=min_n, **scope)
    overall, figures = figure_lines(current, last, history)

    volumes_now = channel_volumes(session, authority.id, period.start, period.end, **scope)
    volumes_before = channel_volumes(session, authority.id, before.start, before.end, **scope)
    volumes = [ChannelVolume(c, volumes_now.get(c, 0), volumes_before.get(c, 0))
               for c in sorted(set(volumes_now) | set(volumes_before),
                               key=lambda c: (-volumes_now.get(c, 0), c))]

    since, until = period.utc_bounds(zone)
    quotes = []
    quoted: set[int] = set()
    for determinant, polarity in notable(figures):
        found = representative_mentions(
            session, authority.id, since, until, determinant=determinant, polarity=polarity,
            min_confidence=settings.digest_verbatim_confidence, **scope)
        picked = pick_quotes(found, quoted)
        if picked:
            quotes.append(Quotes(determinant, polarity, picked))

    baseline_since, _ = oldest.utc_bounds(zone)
    notes = []
    for activity in source_activity(session, authority.id, baseline_since, since, until,
                                    **scope):
        if activity.consecutive_failures > 0:
            notes.append(SourceNote("failed", activity))
        elif activity.items == 0 and activity.baseline_items > 0:
            notes.append(SourceNote("silent", activity))

    return Digest(
        spec=spec, period=period, scope=_scope_name(session, spec), min_sample_size=min_n,
        overall=overall, figures=figures, volumes=volumes,
        alerts=period_alerts(session, authority, since, until), quotes=quotes, sources=notes,
        dashboard_url=dashboard_url(settings.public_base_url, authority, period, **scope),
    )
