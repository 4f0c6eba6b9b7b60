"""Routing rules: which department follows up which item.

An authority's rules are tried in order; the first whose every criterion matches sends the
item to its department. A department the source gave (a source's own department, or the
record's: a complaint log's service column, an Open311 mapping) wins over the rules, and so
does one an officer chose: someone who read the item decided, the rules only guess from words
and tags. Items no rule matches go to the authority's default department (a setting).

Rules run on every classified batch (the determinant and polarity criteria need the tags) and
again on demand over a date range; routing then opens the follow-ups of the items that call
for action.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.domain import DETERMINANTS, Channel, Polarity, Prediction
from ecoute.errors import InvalidRequest, RoutingRuleNotFound, SiteNotFound, SourceNotFound
from ecoute.store.authorities import Places
from ecoute.store.db import session_scope
from ecoute.store.departments import Placement, place_items, routings_of
from ecoute.store.followups import open_followups
from ecoute.store.models import (
    Authority,
    DeterminantTag,
    Item,
    RoutingOrigin,
    RoutingRule,
    Site,
    Source,
    Tagging,
)
from ecoute.store.taggings import KEPT, item_polarities

#: Keys of an item's ``extra`` a ``category`` criterion is compared with.
CATEGORY_KEYS = ("category", "service_code", "service_name")
#: Items routed per transaction by :func:`apply_routing`.
APPLY_CHUNK = 500


@dataclass
class RuleCriteria:
    """What a rule matches; ``None`` matches anything. At least one must be set."""

    source_id: int | None = None
    channel: str | None = None
    site_id: int | None = None
    determinant: str | None = None
    polarity: str | None = None
    lang: str | None = None
    keyword: str | None = None
    category: str | None = None

    def checked(self) -> RuleCriteria:
        if all(getattr(self, f.name) in (None, "") for f in fields(self)):
            raise InvalidRequest(
                "a routing rule needs at least one criterion",
                hint="give a source, channel, site, determinant, polarity, language, keyword "
                "or category; items no rule matches go to the default department "
                "(setting routing_default_department)")
        if self.channel is not None and self.channel not in {c.value for c in Channel}:
            raise InvalidRequest(f"unknown channel {self.channel!r}",
                                 hint=f"channels: {', '.join(c.value for c in Channel)}")
        if self.determinant is not None and self.determinant not in DETERMINANTS:
            raise InvalidRequest(f"unknown determinant {self.determinant!r}",
                                 hint=f"determinants: {', '.join(DETERMINANTS)}")
        usable = (Polarity.POSITIVE, Polarity.NEGATIVE, Polarity.NEUTRAL)
        if self.polarity is not None and self.polarity not in usable:
            raise InvalidRequest(f"unknown polarity {self.polarity!r}",
                                 hint="use positive, negative or neutral")
        if self.keyword is not None and not keyword_terms(self.keyword):
            raise InvalidRequest("the keyword is empty",
                                 hint="give words or phrases separated by commas")
        return self


def fold(text: str) -> str:
    """``text`` without accents and case: "Été" and "ete" are the same word to a rule."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def keyword_terms(keyword: str) -> list[str]:
    """The words or phrases of a keyword criterion (separated by commas), folded."""
    return [" ".join(fold(term).split()) for term in keyword.split(",") if term.strip()]


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Any of the terms as whole words: "bus" matches "le bus 12" but not "abusif"."""
    terms = [r"\s+".join(re.escape(word) for word in term.split())
             for term in keyword_terms(keyword)]
    return re.compile(r"(?<!\w)(?:" + "|".join(terms) + r")(?!\w)")


@dataclass
class ItemFacts:
    """What the rules look at in one item."""

    item: Item
    sentiment: str | None
    polarities: dict[str, str]
    lang: str | None = None
    folded_text: str = ""
    categories: set[str] = field(default_factory=set)


def _predicted_tags(item: Item, prediction: Prediction) -> list[DeterminantTag]:
    """The tags ``prediction`` will give ``item``, unsaved, to read them before they are."""
    return [DeterminantTag(item_id=item.id, determinant=m.determinant, polarity=m.polarity,
                           confidence=m.confidence, provenance=m.provenance)
            for m in prediction.determinants]


def item_facts(
    session: Session, items: Sequence[Item],
    predictions: Sequence[Prediction] | None = None,
) -> dict[int, ItemFacts]:
    """The facts of stored items, or, given ``predictions``, of the items as these
    predictions are about to classify them (human and audit tags still win)."""
    ids = [i.id for i in items]
    tags: dict[int, list[DeterminantTag]] = defaultdict(list)
    sentiments: dict[int, str] = {}
    query = select(DeterminantTag).where(DeterminantTag.item_id.in_(ids))
    if predictions is not None:
        query = query.where(DeterminantTag.provenance.in_(KEPT))
        for item, prediction in zip(items, predictions, strict=True):
            tags[item.id].extend(_predicted_tags(item, prediction))
            sentiments[item.id] = prediction.sentiment.label
    if ids:
        for tag in session.scalars(query):
            tags[tag.item_id].append(tag)
    if ids and predictions is None:
        versions = {i.id: i.classified_version for i in items}
        for tagging in session.scalars(select(Tagging).where(Tagging.item_id.in_(ids))):
            if tagging.model_version == versions.get(tagging.item_id):
                sentiments[tagging.item_id] = tagging.sentiment
    langs = {item.id: p.lang for item, p in zip(items, predictions or [], strict=False)}
    facts = {}
    for item in items:
        extra = item.extra if isinstance(item.extra, dict) else {}
        facts[item.id] = ItemFacts(
            item=item, sentiment=item.human_sentiment or sentiments.get(item.id),
            polarities=item_polarities(tags[item.id]), lang=item.lang or langs.get(item.id),
            folded_text=fold(f"{item.title or ''}\n{item.text}"),
            categories={fold(str(extra[k])).strip() for k in CATEGORY_KEYS
                        if isinstance(extra.get(k), (str, int)) and str(extra[k]).strip()},
        )
    return facts


class RuleMatcher:
    """One rule, ready to test items (its keyword compiled once)."""

    def __init__(self, rule: RoutingRule) -> None:
        self.rule = rule
        self.pattern = keyword_pattern(rule.keyword) if rule.keyword else None
        self.category = fold(rule.category).strip() if rule.category else None

    def matches(self, facts: ItemFacts) -> bool:
        rule, item = self.rule, facts.item
        if rule.source_id is not None and item.source_id != rule.source_id:
            return False
        if rule.channel and item.channel != rule.channel:
            return False
        if rule.site_id is not None and item.site_id != rule.site_id:
            return False
        if rule.lang and (facts.lang or "").split("-")[0].lower() != rule.lang.lower():
            return False
        if rule.determinant:
            polarity = facts.polarities.get(rule.determinant)
            if polarity is None or (rule.polarity and polarity != rule.polarity):
                return False
        elif rule.polarity and facts.sentiment != rule.polarity:
            return False
        if self.category is not None and self.category not in facts.categories:
            return False
        return self.pattern is None or self.pattern.search(facts.folded_text) is not None


# --- the rules ---------------------------------------------------------------------------


def list_rules(session: Session, authority_id: int) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).where(
        RoutingRule.authority_id == authority_id).order_by(RoutingRule.position,
                                                           RoutingRule.id)))


def get_rule(session: Session, rule_id: int, authority_id: int | None) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None or (authority_id is not None and rule.authority_id != authority_id):
        raise RoutingRuleNotFound(f"no routing rule with id {rule_id}",
                                  hint="`ecoute routing list` shows the rules and their ids")
    return rule


def _check_scope(session: Session, authority_id: int, source_id: int | None,
                 site_id: int | None) -> None:
    """A rule names only its own authority's sources and sites."""
    if source_id is not None:
        source = session.get(Source, source_id)
        if source is None or source.authority_id != authority_id or source.removed_at:
            raise SourceNotFound(f"no source with id {source_id}",
                                 hint="`ecoute sources list` shows the sources")
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None or site.authority_id != authority_id:
            raise SiteNotFound(f"no site with id {site_id}")


def _renumber(rules: list[RoutingRule]) -> None:
    for position, rule in enumerate(rules, start=1):
        rule.position = position


def add_rule(
    session: Session, authority: Authority, department: str, criteria: RuleCriteria, *,
    position: int | None = None, created_by: str | None = None,
) -> RoutingRule:
    """A rule sending what ``criteria`` match to ``department`` (created if new), tried at
    ``position`` (1 first; default: after the others)."""
    criteria.checked()
    _check_scope(session, authority.id, criteria.source_id, criteria.site_id)
    if not department.strip():
        raise InvalidRequest("the department name is empty")
    rules = list_rules(session, authority.id)
    rule = RoutingRule(
        authority_id=authority.id, position=0, created_by=created_by,
        department_id=_department_id(session, authority.id, department.strip()[:200]),
        **{f.name: getattr(criteria, f.name) for f in fields(criteria)},
    )
    session.add(rule)
    at = len(rules) if position is None else max(0, min(position - 1, len(rules)))
    rules.insert(at, rule)
    _renumber(rules)
    session.flush()
    return rule


def change_rule(
    session: Session, rule: RoutingRule, *, department: str | None = None,
    criteria: dict[str, Any] | None = None, position: int | None = None,
) -> RoutingRule:
    """Change a rule's department, some criteria (``None`` clears one) or its position."""
    if criteria:
        current = RuleCriteria(**{f.name: getattr(rule, f.name) for f in fields(RuleCriteria)})
        for name, value in criteria.items():
            setattr(current, name, value)
        current.checked()
        _check_scope(session, rule.authority_id, current.source_id, current.site_id)
        for name in criteria:
            setattr(rule, name, getattr(current, name))
    if department is not None:
        if not department.strip():
            raise InvalidRequest("the department name is empty")
        rule.department_id = _department_id(session, rule.authority_id,
                                            department.strip()[:200])
    if position is not None:
        rules = [r for r in list_rules(session, rule.authority_id) if r.id != rule.id]
        rules.insert(max(0, min(position - 1, len(rules))), rule)
        _renumber(rules)
    session.flush()
    return rule


def remove_rule(session: Session, rule: RoutingRule) -> None:
    """Delete a rule; the items it routed keep their department until routing runs again."""
    authority_id = rule.authority_id
    session.delete(rule)
    session.flush()
    _renumber(list_rules(session, authority_id))


# --- routing items -----------------------------------------------------------------------


@dataclass
class RoutingReport:
    routed: int = 0
    moved: int = 0
    followups_opened: int = 0


def route_items(
    session: Session, items: Sequence[Item], settings: Settings, *,
    predictions: Sequence[Prediction] | None = None, now: datetime | None = None,
) -> RoutingReport:
    """Give each item its department by the rules, and open the follow-ups of those that call
    for action.

    With ``predictions``, the items are routed as these predictions are about to classify
    them, before they are written: an item not yet counted in the rollups then changes
    department for free, instead of being counted under its former one and moved.
    """
    report = RoutingReport()
    if not items:
        return report
    facts = item_facts(session, items, predictions)
    routings = routings_of(session, [i.id for i in items])
    authorities = {a.id: a for a in session.scalars(select(Authority).where(
        Authority.id.in_({i.authority_id for i in items})))}
    matchers = {a: [RuleMatcher(r) for r in list_rules(session, a)] for a in authorities}
    defaults: dict[int, int | None] = {}
    placements = []
    for item in items:
        routing = routings.get(item.id)
        if routing is not None and routing.origin == RoutingOrigin.MANUAL:
            continue
        source_department = (routing.source_department_id if routing is not None
                             else item.department_id)
        if source_department is not None:
            placements.append((item, Placement(source_department, RoutingOrigin.SOURCE)))
            continue
        rule = next((m.rule for m in matchers[item.authority_id]
                     if m.matches(facts[item.id])), None)
        if rule is not None:
            placements.append((item, Placement(rule.department_id, RoutingOrigin.RULE,
                                               rule.id)))
            continue
        if item.authority_id not in defaults:
            name = settings.default_department(authorities[item.authority_id].slug)
            defaults[item.authority_id] = _department_id(
                session, item.authority_id, name) if name else None
        default = defaults[item.authority_id]
        placements.append((item, Placement(
            default, RoutingOrigin.DEFAULT if default else RoutingOrigin.NONE)))
    report.routed = len(placements)
    report.moved = place_items(session, placements, actor="routing rules")
    report.followups_opened = open_followups(
        session, [(f.item, f.sentiment) for f in facts.values()], settings,
        {a.id: a.slug for a in authorities.values()}, now=now)
    return report


def items_in_range(
    session: Session, authority_id: int, since: datetime | None, until: datetime | None,
) -> list[int]:
    """Ids of an authority's items received in [since, until): published, or collected when
    the source gave no date."""
    received = func.coalesce(Item.published_at, Item.collected_at)
    query = select(Item.id).where(Item.authority_id == authority_id)
    if since is not None:
        query = query.where(or_(Item.published_at >= since,
                                and_(Item.published_at.is_(None), Item.collected_at >= since)))
    if until is not None:
        query = query.where(or_(Item.published_at < until,
                                and_(Item.published_at.is_(None), Item.collected_at < until)))
    return list(session.scalars(query.order_by(received, Item.id)))


def apply_routing(
    factory: sessionmaker[Session], authority_id: int, settings: Settings, *,
    since: datetime | None = None, until: datetime | None = None, now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> RoutingReport:
    """Route again an authority's items received in [since, until), one transaction per
    chunk: after rules changed, or for items collected before there were rules."""
    with session_scope(factory) as session:
        ids = items_in_range(session, authority_id, since, until)
    total = RoutingReport()
    for start in range(0, len(ids), APPLY_CHUNK):
        with session_scope(factory) as session:
            items = list(session.scalars(select(Item).where(
                Item.id.in_(ids[start:start + APPLY_CHUNK])).order_by(Item.id)))
            report = route_items(session, items, settings, now=now)
        total.routed += report.routed
        total.moved += report.moved
        total.followups_opened += report.followups_opened
        if progress is not None:
            progress(len(items))
    return total


def _department_id(session: Session, authority_id: int, name: str) -> int:
    """The id of the authority's department ``name``, created when new."""
    found = Places(authority_id).department_id(session, name)
    assert found is not None  # a non-empty name, and Places creates what it does not find
    return found
