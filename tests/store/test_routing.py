"""Routing rules: matching, order, the source's department, the default one, re-running over a
date range, and the satisfaction rollups following the items."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.domain import OVERALL
from ecoute.errors import InvalidRequest, SourceNotFound
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.followups import change_followup, find_followup
from ecoute.store.models import (
    DailyRollup,
    Department,
    Followup,
    FollowupEvent,
    Item,
    ItemRouting,
    RoutingOrigin,
)
from ecoute.store.routing import (
    RuleCriteria,
    add_rule,
    apply_routing,
    change_rule,
    fold,
    get_rule,
    keyword_pattern,
    list_rules,
    remove_rule,
)
from tests.helpers.feedback import classify, push

NOW = datetime.now(timezone.utc)
RECENT = (NOW - timedelta(days=2)).isoformat()

RECORDS = [
    {"external_id": "c1", "text": "Le bus 12 est passé sans s'arrêter. Attente de 40 minutes.",
     "channel": "complaint", "published_at": RECENT},
    {"external_id": "c2", "text": "Trottoir défoncé rue de l'Été.", "channel": "complaint",
     "published_at": RECENT, "extra": {"category": "VOIRIE"}},
    {"external_id": "c3", "text": "Un refus abusif au guichet. Agent impoli.",
     "channel": "complaint", "published_at": RECENT},
    {"external_id": "r1", "text": "Personnel aimable.", "channel": "review",
     "published_at": RECENT},
    {"external_id": "r2", "text": "Impossible de joindre la mairie.", "channel": "review",
     "published_at": RECENT},
    {"external_id": "r3", "text": "Attente interminable à la piscine.", "channel": "review",
     "published_at": RECENT, "department": "Sports"},
    {"external_id": "e1", "text": "See you at the ETE festival", "channel": "email",
     "lang": "en", "published_at": RECENT},
]


@pytest.fixture
def routed_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"routing_default_department": "Standard"})


def _rules(factory: sessionmaker[Session]) -> dict[str, int]:
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        ids = {}
        for name, department, criteria in [
            ("voirie", "Voirie", RuleCriteria(category="voirie")),
            ("bus", "Transports", RuleCriteria(keyword="bus, tramway")),
            ("impoli", "Accueil", RuleCriteria(determinant="courtesy", polarity="negative")),
            ("ete", "Culture", RuleCriteria(keyword="ete")),
            ("reviews", "Relation usagers", RuleCriteria(channel="review", polarity="negative")),
        ]:
            ids[name] = add_rule(session, valmont, department, criteria, created_by="test").id
    return ids


def _departments(factory: sessionmaker[Session]) -> dict[str, str | None]:
    with session_scope(factory) as session:
        return {external: name for external, name in session.execute(
            select(Item.external_id, Department.name).outerjoin(
                Department, Department.id == Item.department_id)).all()}


def _rollup_matches_items(factory: sessionmaker[Session]) -> None:
    """Every classified item counts once in the rollups, under its current department."""
    with session_scope(factory) as session:
        counted = dict(session.execute(
            select(DailyRollup.department_id,
                   func.sum(DailyRollup.pos + DailyRollup.neg + DailyRollup.neu))
            .where(DailyRollup.determinant == OVERALL).group_by(DailyRollup.department_id)
        ).all())
        items = {department or 0: n for department, n in session.execute(
            select(Item.department_id, func.count(Item.id))
            .where(Item.classified_version.is_not(None))
            .group_by(Item.department_id)).all()}
    assert {d: int(n) for d, n in counted.items() if n} == items


def test_keywords_are_whole_words_without_case_or_accents() -> None:
    pattern = keyword_pattern("bus, Été, rendez-vous, salle  des fêtes")
    for text in ("le bus 12", "rue de l'ete", "ÉTÉ 2026", "pris rendez-vous hier",
                 "la SALLE des\nFetes"):
        assert pattern.search(fold(text)) is not None, text
    for text in ("un refus abusif", "les autobus", "la salle est en fête", "péter"):
        assert pattern.search(fold(text)) is None, text


def test_rules_in_order_source_department_and_default(
    factory: sessionmaker[Session], routed_settings: Settings, tmp_path: Path,
) -> None:
    _rules(factory)
    push(factory, routed_settings, tmp_path / "in", RECORDS)
    assert classify(factory, routed_settings) == len(RECORDS)
    assert _departments(factory) == {
        "c1": "Transports",  # "bus", while "abusif" in c3 is no bus
        "c2": "Voirie",  # the category rule comes before the "ete" keyword
        "c3": "Accueil",  # negative on courtesy
        "r1": "Standard",  # positive review: no rule, the default department
        "r2": "Relation usagers",
        "r3": "Sports",  # the record named its department: it wins over the review rule
        "e1": "Culture",
    }
    with session_scope(factory) as session:
        origins = dict(session.execute(select(Item.external_id, ItemRouting.origin).join(
            ItemRouting, ItemRouting.item_id == Item.id)).all())
        opened = set(session.scalars(select(Item.external_id).join(
            Followup, Followup.item_id == Item.id)))
        events = list(session.scalars(select(FollowupEvent.action)))
    assert origins["r3"] == RoutingOrigin.SOURCE and origins["r1"] == RoutingOrigin.DEFAULT
    assert origins["c1"] == RoutingOrigin.RULE
    # Complaints always, reviews when negative; neither the positive review nor the email.
    assert opened == {"c1", "c2", "c3", "r2", "r3"}
    assert events == ["opened"] * 5
    _rollup_matches_items(factory)


def test_apply_follows_changed_rules_and_keeps_manual_and_source_choices(
    factory: sessionmaker[Session], routed_settings: Settings, tmp_path: Path,
) -> None:
    ids = _rules(factory)
    push(factory, routed_settings, tmp_path / "in", RECORDS)
    classify(factory, routed_settings)
    with session_scope(factory) as session:
        c3 = session.scalars(select(Item).where(Item.external_id == "c3")).one()
        sports = session.scalars(select(Department).where(Department.name == "Sports")).one()
        followup = find_followup(session, c3.id)
        assert followup is not None
        change_followup(session, followup, {"department_id": sports.id}, actor="key:ek_x (Anne)")
        remove_rule(session, get_rule(session, ids["bus"], None))
        assert [r.position for r in list_rules(session, c3.authority_id)] == [1, 2, 3, 4]
        change_rule(session, get_rule(session, ids["reviews"], None), position=1,
                    criteria={"polarity": None, "channel": "review"})
        authority_id = c3.authority_id
    report = apply_routing(factory, authority_id, routed_settings,
                           since=NOW - timedelta(days=7))
    assert report.routed == len(RECORDS) - 1  # c3 was placed by hand
    departments = _departments(factory)
    assert departments["c1"] == "Standard"  # its rule is gone
    assert departments["r1"] == departments["r2"] == "Relation usagers"  # every review now
    assert departments["r3"] == "Sports" and departments["c3"] == "Sports"
    with session_scope(factory) as session:
        moves = [(e.actor, e.old_value, e.new_value) for e in session.scalars(
            select(FollowupEvent).where(FollowupEvent.action == "department")
            .order_by(FollowupEvent.id))]
    assert moves == [("key:ek_x (Anne)", "Accueil", "Sports"),
                     ("routing rules", "Transports", "Standard")]
    _rollup_matches_items(factory)
    # Nothing moves the second time.
    assert apply_routing(factory, authority_id, routed_settings,
                         since=NOW - timedelta(days=7)).moved == 0


def test_old_items_get_no_follow_up_unless_the_age_limit_is_off(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    old = (NOW - timedelta(days=60)).isoformat()
    push(factory, settings, tmp_path / "in", [
        {"external_id": "old", "text": "Attente", "channel": "complaint", "published_at": old},
        {"external_id": "new", "text": "Attente", "channel": "complaint",
         "published_at": RECENT}])
    classify(factory, settings)
    with session_scope(factory) as session:
        assert session.scalar(select(func.count(Followup.id))) == 1
        authority_id = session.scalars(select(Item.authority_id)).first()
        assert authority_id is not None
    # Without a default department nor rules, items stay without a department.
    assert set(_departments(factory).values()) == {None}
    report = apply_routing(factory, authority_id,
                           settings.model_copy(update={"followup_max_age_days": 0}),
                           since=NOW - timedelta(days=90), until=NOW - timedelta(days=30))
    assert (report.routed, report.followups_opened) == (1, 1)


def test_rules_refuse_what_cannot_match(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    other = push(factory, settings, tmp_path / "other", [{"external_id": "x", "text": "t"}],
                 authority="autreville")
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        with pytest.raises(InvalidRequest, match="at least one criterion"):
            add_rule(session, valmont, "Voirie", RuleCriteria())
        with pytest.raises(InvalidRequest, match="unknown determinant"):
            add_rule(session, valmont, "Voirie", RuleCriteria(determinant="parking"))
        with pytest.raises(InvalidRequest, match="keyword is empty"):
            add_rule(session, valmont, "Voirie", RuleCriteria(keyword=" , "))
        with pytest.raises(SourceNotFound):  # another authority's source
            add_rule(session, valmont, "Voirie", RuleCriteria(source_id=other))
        first = add_rule(session, valmont, "A", RuleCriteria(channel="complaint"))
        second = add_rule(session, valmont, "B", RuleCriteria(channel="review"), position=1)
        assert [(r.id, r.position) for r in list_rules(session, valmont.id)] == [
            (second.id, 1), (first.id, 2)]


def test_a_new_model_version_reroutes_counted_items_and_the_rollups_follow(
    factory: sessionmaker[Session], routed_settings: Settings, tmp_path: Path,
) -> None:
    from ecoute.classifiers.pending import classify_pending
    from tests.helpers.feedback import WORDS, WordListClassifier

    # A new version that reads "aimable" as irony.
    sterner = WordListClassifier({**WORDS, "aimable": ("courtesy", "negative")}, version="2")
    _rules(factory)
    push(factory, routed_settings, tmp_path / "in", RECORDS)
    classify(factory, routed_settings)
    assert _departments(factory)["r1"] == "Standard"
    assert classify_pending(factory, sterner, settings=routed_settings).classified == len(
        RECORDS)
    assert _departments(factory)["r1"] == "Accueil"  # now negative on courtesy
    with session_scope(factory) as session:
        r1 = session.scalars(select(Item).where(Item.external_id == "r1")).one()
        assert find_followup(session, r1.id) is not None  # a negative review now
    _rollup_matches_items(factory)
