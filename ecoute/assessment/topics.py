"""Emerging topics: a cluster of similar negative items that is new in the current window.

"The lift at the annex is broken again", said on the phone, in an e-mail and in a review, is
one topic no single channel shows. From the negative items of the last ``alert_window_days``
(with the embeddings the classifier computed when it read them) and of the
``alert_baseline_days`` before:

1. similarity of two items = the mean of the cosine of their embeddings, centred on the mean
   of all the items compared (the encoder's embeddings share a large common direction that
   makes every pair look alike), and of the cosine of their words' TF-IDF vectors (hashed);
2. clusters of the current window's items: the item with the most neighbours (similarity at
   least ``alert_topic_similarity``) and its neighbours form a cluster, then the next, while
   one has ``alert_topic_min_items`` items;
3. a cluster is emerging when the baseline had fewer than a third as many neighbours of its
   first item per week (``NOVELTY_FACTOR``): a steady stream of the same complaint is not new;
4. its label is its most distinctive words (class-based TF-IDF: frequent in the cluster, rare
   in the other items), and it lists its items across channels.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.store.alerts import Finding
from ecoute.store.embeddings import EmbeddedItem, negative_embeddings
from ecoute.store.models import AlertKind, Authority

NOVELTY_FACTOR = 3.0
HASHED_WORDS = 2048
LABEL_WORDS = 3
#: Items shown in an alert's figures (all are linked by ``item_ids`` up to this many).
MAX_LINKED = 200
EXAMPLES = 3
_WORD = re.compile(r"[a-z]{3,}")
#: French and English words too common to tell topics apart (accents folded).
STOPWORDS = frozenset(word for line in (
    "le la les un une des du de au aux et ou mais donc car ni que qui quoi dont est sont ete",
    "etre avoir ont pas plus tres tout tous toute toutes cette ces son sa ses leur leurs mon",
    "ma mes ton ta tes notre nos votre vos pour par sur sous dans avec sans chez entre vers",
    "depuis encore deja aussi comme quand alors ainsi bien fait faire peu non oui nous vous",
    "ils elles elle lui on se ce ca cela ceci ici",
    "the and for with that this was were are have has had not but from they them their",
    "there what when which who will would could should been being than then too very just",
    "again still into out our your his her its you all any can did does done about",
) for word in line.split())


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Content words: lower case, accents folded, three letters or more, no stop words."""
    return [w for w in _WORD.findall(_plain(text)) if w not in STOPWORDS]


def _item_words(item: EmbeddedItem) -> list[str]:
    return words(f"{item.title or ''} {item.text}")


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-9)


def _hashed_tfidf(documents: Sequence[list[str]]) -> np.ndarray:
    """TF-IDF vectors of the documents' word stems (first 6 letters: plurals and genders
    meet), hashed into ``HASHED_WORDS`` columns."""
    stems = [[w[:6] for w in doc] for doc in documents]
    frequency = Counter(s for doc in stems for s in set(doc))
    matrix = np.zeros((len(stems), HASHED_WORDS), dtype=np.float32)
    for row, doc in enumerate(stems):
        for stem, count in Counter(doc).items():
            column = zlib.crc32(stem.encode()) % HASHED_WORDS
            matrix[row, column] += count * math.log((1 + len(stems)) / (1 + frequency[stem]))
    return _unit(matrix)


def similarity(embeddings: np.ndarray, tfidf: np.ndarray, rows: Sequence[int],
               columns: Sequence[int]) -> np.ndarray:
    """Similarity of items ``rows`` to items ``columns`` (see the module's docstring)."""
    r, c = list(rows), list(columns)
    return 0.5 * (embeddings[r] @ embeddings[c].T) + 0.5 * (tfidf[r] @ tfidf[c].T)


def clusters(near: np.ndarray, min_items: int) -> list[tuple[int, list[int]]]:
    """``(leader, members)`` of a square boolean neighbour matrix, largest first: the item
    with the most unassigned neighbours leads a cluster of them, while it has enough."""
    free = np.ones(len(near), dtype=bool)
    found = []
    while free.any():
        counts = (near & free[None, :]).sum(axis=1) * free
        leader = int(np.argmax(counts))
        if counts[leader] < min_items:
            break
        members = [int(i) for i in np.flatnonzero(near[leader] & free)]
        free[members] = False
        found.append((leader, members))
    return found


def label(documents: Sequence[list[str]], members: Sequence[int], others: Sequence[int]
          ) -> list[str]:
    """The cluster's most distinctive words by class-based TF-IDF: the share of its items
    using a word, times log(1 + A / the word's frequency over both classes), A being the
    average number of words per class. Only words used by two items or more."""
    inside = Counter(w for i in members for w in set(documents[i]))
    outside = Counter(w for i in others for w in set(documents[i]))
    average = (sum(inside.values()) + sum(outside.values())) / 2
    scores = {
        w: (n / len(members)) * math.log(1 + average / (n + outside[w]))
        for w, n in inside.items() if n >= 2
    }
    return [w for w, _score in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
            ][:LABEL_WORDS]


def emerging_topics(
    session: Session, authority: Authority, settings: Settings, today: date, *,
    known: dict[str, set[int]] | None = None,
) -> list[Finding]:
    """The emerging topics of the authority's current window. ``known``: the item ids of the
    active topic alerts by key; a cluster sharing half its items with one keeps its key."""
    current = today - timedelta(days=settings.alert_window_days - 1)
    first = current - timedelta(days=settings.alert_baseline_days)
    items, vectors = negative_embeddings(session, authority.id, first, today)
    recent = [i for i, item in enumerate(items) if item.day >= current]
    if len(recent) < settings.alert_topic_min_items:
        return []
    before = [i for i, item in enumerate(items) if item.day < current]
    documents = [_item_words(item) for item in items]
    embeddings = _unit(vectors - vectors.mean(axis=0))
    tfidf = _hashed_tfidf(documents)
    threshold = settings.alert_topic_similarity
    near = similarity(embeddings, tfidf, recent, recent) >= threshold
    weeks = settings.alert_baseline_days / 7
    findings = []
    for leader, members in clusters(near, settings.alert_topic_min_items):
        chosen = [recent[m] for m in members]
        prior = int((similarity(embeddings, tfidf, [recent[leader]], before) >= threshold).sum()
                    ) if before else 0
        if prior / weeks * NOVELTY_FACTOR > len(chosen):
            continue
        others = [i for i in range(len(items)) if i not in set(chosen)]
        findings.append(_finding(items, documents, chosen, others, prior, known or {}))
    return findings


def _finding(items: Sequence[EmbeddedItem], documents: Sequence[list[str]],
             chosen: list[int], others: list[int], prior: int,
             known: dict[str, set[int]]) -> Finding:
    ids = sorted(items[i].item_id for i in chosen)
    key = next((k for k, seen in known.items()
                if len(seen & set(ids)) * 2 >= min(len(seen), len(ids)) > 0),
               f"{AlertKind.EMERGING_TOPIC}:{ids[0]}")
    words_ = label(documents, chosen, others)
    channels = Counter(items[i].channel for i in chosen)
    days = sorted(items[i].day for i in chosen)
    spread = ", ".join(f"{n} {channel}" for channel, n in sorted(channels.items()))
    return Finding(
        AlertKind.EMERGING_TOPIC, key,
        f"New topic: {' · '.join(words_) or 'similar complaints'} — {len(ids)} negative items "
        f"({spread}) between {days[0]:%Y-%m-%d} and {days[-1]:%Y-%m-%d}",
        {"label": words_, "items": len(ids), "item_ids": ids[:MAX_LINKED],
         "channels": dict(sorted(channels.items())), "baseline_similar_items": prior,
         "first_day": days[0].isoformat(), "last_day": days[-1].isoformat(),
         "examples": [{"item_id": items[i].item_id, "channel": items[i].channel,
                       "text": items[i].text[:200]} for i in chosen[:EXAMPLES]]})
