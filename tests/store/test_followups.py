"""Follow-up statuses: allowed moves, what each needs, and the history they leave."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.errors import FollowupNotFound, InvalidRequest, InvalidTransition, ItemNotFound
from ecoute.store.db import session_scope
from ecoute.store.followups import add_note, change_followup, events_of, get_followup
from ecoute.store.models import Item
from tests.helpers.feedback import classify, push

RECENT = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()


def test_statuses_move_as_allowed_and_every_change_is_recorded(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    push(factory, settings, tmp_path / "in", [
        {"external_id": "c1", "text": "Attente de 2 heures.", "channel": "complaint",
         "published_at": RECENT},
        {"external_id": "r1", "text": "Personnel aimable.", "channel": "review",
         "published_at": RECENT}])
    push(factory, settings, tmp_path / "other", [
        {"external_id": "o1", "text": "Attente.", "channel": "complaint",
         "published_at": RECENT}], authority="autreville", name="autre")
    classify(factory, settings)
    with session_scope(factory) as session:
        ids = dict(session.execute(select(Item.external_id, Item.id)).all())
        valmont = session.get(Item, ids["c1"]).authority_id  # type: ignore[union-attr]
        with pytest.raises(FollowupNotFound, match="no follow-up"):  # a positive review
            get_followup(session, ids["r1"], valmont)
        with pytest.raises(ItemNotFound):  # another authority's item
            get_followup(session, ids["o1"], valmont)
        followup = get_followup(session, ids["c1"], valmont)
        assert followup.status == "new" and followup.promise_days == 15
        with pytest.raises(InvalidTransition, match="a new follow-up cannot become closed"):
            change_followup(session, followup, {"status": "closed"}, actor="a")
        with pytest.raises(InvalidRequest, match="needs an assignee"):
            change_followup(session, followup, {"status": "assigned"}, actor="a")
        change_followup(session, followup, {"assignee": " Voirie — M. Roux "}, actor="key:1")
        assert (followup.status, followup.assignee) == ("assigned", "Voirie — M. Roux")
        answered = datetime(2026, 11, 3, 9, tzinfo=timezone.utc)
        change_followup(session, followup, {"status": "answered"}, actor="key:1", now=answered)
        change_followup(session, followup, {"status": "closed"}, actor="key:2")
        assert followup.closed_at is not None
        change_followup(session, followup, {"status": "assigned", "reason": "rappel"},
                        actor="key:2")  # reopened
        assert followup.closed_at is None and followup.answered_at == answered
        with pytest.raises(InvalidRequest, match="needs a reason"):
            change_followup(session, followup, {"status": "dismissed"}, actor="key:2")
        change_followup(session, followup, {"status": "dismissed", "reason": "doublon de c7"},
                        actor="key:2")
        assert followup.dismissed_reason == "doublon de c7"
        with pytest.raises(InvalidRequest, match="empty"):
            add_note(session, followup, "  ", actor="key:2")
        add_note(session, followup, "Appelé l'usager.", actor="key:2")
        history = [(e.actor, e.action, e.old_value, e.new_value, e.note)
                   for e in events_of(session, [followup.id])[followup.id]]
    assert history == [
        ("routing rules", "opened", None, "new", None),
        ("key:1", "assignee", None, "Voirie — M. Roux", None),
        ("key:1", "status", "new", "assigned", None),
        ("key:1", "status", "assigned", "answered", None),
        ("key:2", "status", "answered", "closed", None),
        ("key:2", "status", "closed", "assigned", "rappel"),
        ("key:2", "status", "assigned", "dismissed", "doublon de c7"),
        ("key:2", "note", None, None, "Appelé l'usager."),
    ]


def test_anonymised_items_lose_their_notes_and_keep_their_dates(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    from ecoute.store.retention import purge_items

    push(factory, settings, tmp_path / "in", [
        {"external_id": "c1", "text": "Attente.", "channel": "complaint",
         "published_at": RECENT}])
    classify(factory, settings)
    with session_scope(factory) as session:
        item_id = session.scalars(select(Item.id)).one()
        followup = get_followup(session, item_id, None)
        add_note(session, followup, "Mme Durand rappelée au 06 12 34 56 78", actor="key:1")
        change_followup(session, followup, {"status": "dismissed", "reason": "Mme Durand "
                                            "a retiré sa plainte"}, actor="key:1")
        purge_items(session, {"push": 1}, "anonymise",
                    now=datetime.now(timezone.utc) + timedelta(days=3))
    with session_scope(factory) as session:
        followup = get_followup(session, item_id, None)
        events = events_of(session, [followup.id])[followup.id]
        assert followup.dismissed_reason == "" and followup.closed_at is not None
        assert [e.note for e in events if e.action == "note"] == [""]
        assert all("Durand" not in (e.note or "") for e in events)
        assert [e.action for e in events] == ["opened", "note", "status"]
