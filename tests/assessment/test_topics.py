"""Emerging topics: clusters of similar negative items new in the current window, labelled by
their distinctive words, linked across channels; a steady complaint is not new."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.alerts import evaluate_alerts
from ecoute.assessment.topics import clusters, label, words
from ecoute.config.settings import Settings
from ecoute.store.alerts import list_alerts, resolve_alert
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.embeddings import negative_embeddings, store_embeddings
from ecoute.store.models import AlertKind, Item
from ecoute.store.sources import add_source

TODAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 10, tzinfo=UTC)
TOPIC = AlertKind.EMERGING_TOPIC
FILLER = ["bruit chantier matin", "poubelles oubliees rue", "attente guichet longue",
          "standard injoignable telephone", "site internet rendez-vous erreur",
          "trottoir abime ecole", "piscine fermee prevenir", "bus retard gare",
          "eclairage quartier eteint", "dossier bloque nouvelles", "toilettes sales mediatheque",
          "agent desagreable accueil", "courrier reponse attendue", "parking complet marche"]
LIFT = ["L'ascenseur de l'annexe est encore en panne, impossible de monter.",
        "Ascenseur en panne à l'annexe de la mairie, ma mère n'a pas pu monter.",
        "Encore une fois l'ascenseur ne marche pas à l'annexe !",
        "Appel : ascenseur de l'annexe bloqué, panne depuis lundi.",
        "Annexe : l'ascenseur est en panne, les fauteuils ne passent pas.",
        "Ascenseur annexe encore en panne ce matin."]


def test_words_fold_accents_and_drop_stop_words() -> None:
    assert words("L'Ascenseur de l'annexe est ENCORE en panne à l'Hôtel de ville") == [
        "ascenseur", "annexe", "panne", "hotel", "ville"]


def test_clusters_take_the_densest_item_and_its_neighbours_first() -> None:
    near = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 0, 0],
                     [0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 0], [0, 0, 0, 0, 0, 1]], dtype=bool)
    # Item 2 has 4 neighbours (itself included): 0, 1, 2, 3; then 4 is left alone.
    assert clusters(near, 3) == [(2, [0, 1, 2, 3])]
    assert clusters(near, 1) == [(2, [0, 1, 2, 3]), (4, [4]), (5, [5])]


def test_label_by_class_based_tf_idf_by_hand() -> None:
    documents = [["ascenseur", "panne", "annexe"], ["ascenseur", "panne"],
                 ["ascenseur", "annexe", "bruit"], ["panne", "bus"], ["bus", "retard"],
                 ["bruit", "chantier"]]
    # Cluster {0, 1, 2}: ascenseur in 3 of 3 items (none outside), panne in 2 (+1 outside),
    # annexe in 2 (none outside), bruit in 1 only (dropped). A = (8 + 5) / 2 = 6.5:
    # ascenseur 1 × ln(1 + 6.5/3) = 1.153; annexe 2/3 × ln(1 + 6.5/2) = 0.965;
    # panne 2/3 × ln(1 + 6.5/3) = 0.769.
    assert label(documents, [0, 1, 2], [3, 4, 5]) == ["ascenseur", "annexe", "panne"]


def _fill(factory: sessionmaker[Session], *, steady: bool = False, lift: int = 5,
          slug: str = "demo") -> list[int]:
    """28 days of varied negative items (2 a day), this week 12 more; ``lift`` of this week's
    items are about one broken lift (a shared direction and shared words), over phone, e-mail
    and reviews. ``steady``: the lift complaint also came 4 times a week before. Returns the
    lift items' ids."""
    rng = np.random.default_rng(7)
    shuffle = random.Random(7)
    direction = rng.normal(size=32)
    rows: list[tuple[date, str, str, np.ndarray]] = []
    for d in range(7, 35):
        for _ in range(2):
            rows.append((TODAY - timedelta(days=d), shuffle.choice(FILLER), "review",
                         rng.normal(size=32)))
        if steady and d % 7 < 4:
            rows.append((TODAY - timedelta(days=d), shuffle.choice(LIFT), "phone",
                         direction + 0.3 * rng.normal(size=32)))
    for d in range(7):
        rows.append((TODAY - timedelta(days=d), FILLER[d], "email", rng.normal(size=32)))
        rows.append((TODAY - timedelta(days=d), FILLER[7 + d], "review", rng.normal(size=32)))
    channels = ["phone", "email", "review", "phone", "email", "review"]
    for k in range(lift):
        rows.append((TODAY - timedelta(days=k), LIFT[k], channels[k],
                     direction + 0.3 * rng.normal(size=32)))
    with session_scope(factory) as session:
        authority = ensure_authority(session, slug)
        source = add_source(session, authority.id, name=f"mixed-{len(rows)}", kind="push",
                            options={})
        ids = []
        for n, (day, text, channel, _vector) in enumerate(rows):
            ids.append(session.execute(insert(Item).values(
                authority_id=authority.id, source_id=source.id, external_id=f"i{n}",
                content_hash=f"h{n}", channel=channel, text=text, extra={},
                published_at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
            ).returning(Item.id)).scalar_one())
        store_embeddings(session, [(item_id, authority.id, day, vector.tolist())
                                   for item_id, (day, _t, _c, vector) in zip(ids, rows,
                                                                             strict=True)])
    return ids[-lift:] if lift else []


def _topics(factory: sessionmaker[Session], settings: Settings, now: datetime = NOW,
            slug: str = "demo") -> list:  # type: ignore[type-arg]
    with session_scope(factory) as session:
        authority = ensure_authority(session, slug)
        evaluate_alerts(session, authority, settings, now=now, kinds=(TOPIC,))
        return list_alerts(session, authority.id, active=None, kind=TOPIC)


def test_a_new_cluster_of_complaints_across_channels_is_an_emerging_topic(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    lift = _fill(factory)
    [alert] = _topics(factory, settings)
    figures = alert.figures
    assert figures["item_ids"] == sorted(lift)
    # Words of all five items first (ties in alphabetical order), then one of most.
    assert figures["label"] == ["annexe", "ascenseur", "panne"]
    assert figures["channels"] == {"email": 2, "phone": 2, "review": 1}
    assert figures["baseline_similar_items"] == 0
    assert (figures["first_day"], figures["last_day"]) == ("2026-06-26", "2026-06-30")
    assert alert.title.startswith("New topic: annexe · ascenseur · panne — 5 negative items")
    assert "5 negative items (2 email, 2 phone, 1 review)" in alert.title
    assert alert.key == f"emerging_topic:{min(lift)}"
    # Another report of the same lift the next day: the same alert, one more item.
    with session_scope(factory) as session:
        demo = ensure_authority(session, "demo")
        source_id = session.scalar(select(Item.source_id).where(Item.id == lift[0]))
        added = session.execute(insert(Item).values(
            authority_id=demo.id, source_id=source_id, external_id="late", content_hash="late",
            channel="review", text=LIFT[5], extra={}).returning(Item.id)).scalar_one()
        items, vectors = negative_embeddings(session, demo.id, TODAY, TODAY)
        first = [i.item_id for i in items].index(lift[0])
        store_embeddings(session, [(added, demo.id, TODAY, vectors[first].tolist())])
    [same] = _topics(factory, settings, now=NOW + timedelta(hours=3))
    assert same.id == alert.id and same.resolved_at is None
    assert same.figures["items"] == 6 and added in same.figures["item_ids"]
    # Resolved by an officer while the topic lasts: not raised again under another key.
    with session_scope(factory) as session:
        resolve_alert(session, same.id, None, by="officer")
    assert [(a.id, a.resolved_by) for a in _topics(factory, settings,
                                                   now=NOW + timedelta(hours=6))] == [
        (same.id, "officer")]


def test_a_steady_complaint_is_not_new_and_noise_makes_no_topic(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    _fill(factory, steady=True, slug="steady")
    assert _topics(factory, settings, slug="steady") == []
    _fill(factory, lift=0, slug="quiet")
    assert _topics(factory, settings, slug="quiet") == []


@pytest.mark.parametrize("corrected", ["positive", "neutral"])
def test_items_a_person_says_are_not_negative_leave_the_topic(
    factory: sessionmaker[Session], settings: Settings, corrected: str,
) -> None:
    lift = _fill(factory)
    with session_scope(factory) as session:
        for item_id in lift[:3]:
            item = session.get(Item, item_id)
            assert item is not None
            item.human_sentiment = corrected
    assert _topics(factory, settings) == []  # two left: under alert_topic_min_items
