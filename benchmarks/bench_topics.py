"""Emerging topics on the shipped encoder: which of five reports of one broken lift (four in
French, one in English, across channels) a week of varied complaints brings together.

    python benchmarks/bench_topics.py [--similarity 0.3]

Embeds 83 negative complaints (five weeks of one to three a day drawn at random from 35
texts on usual subjects, and the five lift reports this week) with the default classifier's encoder,
runs the clustering of ``ecoute.assessment.topics`` and prints each cluster found, whether it
is new, its label, and the lift reports' recall and the clusters' precision. Needs the
default model (converted offline on first use, into ``--cache``).
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoute.assessment import topics  # noqa: E402
from ecoute.classifiers.loader import build_classifier  # noqa: E402
from ecoute.config.settings import Settings  # noqa: E402
from ecoute.store.embeddings import EmbeddedItem  # noqa: E402

SUBJECTS = [
    "Attente de deux heures au guichet état civil, inadmissible.",
    "On attend des heures au guichet, c'est scandaleux.",
    "Waited two hours at the counter, unacceptable.",
    "Une heure et demie d'attente pour une carte d'identité.",
    "File d'attente interminable ce matin à la mairie.",
    "Personne ne répond au téléphone depuis une semaine.",
    "Impossible de joindre le standard, ça sonne dans le vide.",
    "Nobody answers the phone, it just rings.",
    "J'ai appelé dix fois, jamais de réponse au téléphone.",
    "Le standard est injoignable toute la journée.",
    "Agent très désagréable à l'accueil ce matin.",
    "Accueil froid et méprisant au guichet.",
    "The receptionist was rude and dismissive.",
    "Personnel désagréable, on m'a parlé sèchement.",
    "Le site internet ne fonctionne pas pour prendre rendez-vous.",
    "The website to book an appointment does not work.",
    "Impossible de prendre rendez-vous en ligne, le site plante.",
    "Le formulaire en ligne affiche une erreur à chaque fois.",
    "Les poubelles n'ont pas été ramassées rue Victor Hugo.",
    "Rubbish bins were not collected on my street.",
    "Ramassage des ordures oublié encore cette semaine.",
    "Les conteneurs débordent depuis dix jours.",
    "Trottoir défoncé devant l'école, dangereux pour les enfants.",
    "Nid de poule énorme avenue Jean Jaurès.",
    "The pavement is broken near the school.",
    "Chaussée abîmée rue de la gare, danger pour les vélos.",
    "Aucune réponse à mon courrier de réclamation envoyé il y a un mois.",
    "Ma demande de passeport est bloquée depuis trois mois sans nouvelles.",
    "Still no answer to my letter after six weeks.",
    "Dossier en attente depuis des mois, aucune nouvelle.",
    "Le bus 12 est encore passé en avance, j'ai raté mon train.",
    "La piscine est fermée sans prévenir, encore.",
    "Les toilettes de la médiathèque sont sales et hors service.",
    "Éclairage public en panne dans tout le quartier.",
    "Bruit de chantier dès six heures du matin.",
]
LIFT = [
    "L'ascenseur de l'annexe est encore en panne, impossible de monter au 2e étage.",
    "Ascenseur en panne à l'annexe de la mairie, ma mère en fauteuil n'a pas pu accéder au "
    "service.",
    "Encore une fois l'ascenseur ne marche pas à l'annexe !",
    "The lift at the town hall annex is broken again.",
    "Appel : l'ascenseur de l'annexe est bloqué, personne ne peut monter.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--similarity", type=float, default=Settings().alert_topic_similarity)
    parser.add_argument("--cache", type=Path, default=None, help="model cache folder")
    args = parser.parse_args()
    settings = Settings(**({"cache_dir": args.cache} if args.cache else {}), torch_threads=1)
    encoder = build_classifier(settings).encoder  # type: ignore[attr-defined]
    rng = random.Random(3)
    today = date(2026, 6, 30)
    rows = [(today - timedelta(days=d), rng.choice(SUBJECTS), rng.choice(
        ["review", "email", "phone", "complaint"])) for d in range(35)
        for _ in range(rng.randint(1, 3))]
    lift = set(range(len(rows), len(rows) + len(LIFT)))
    rows += [(today - timedelta(days=k), text, ["phone", "email", "review", "review", "phone"][k])
             for k, text in enumerate(LIFT)]
    width = encoder.dim // len(encoder.layers)
    vectors = encoder.encode([text for _d, text, _c in rows]).items[:, -width:]
    items = [EmbeddedItem(i, d, c, t, None) for i, (d, t, c) in enumerate(rows)]
    current = today - timedelta(days=settings.alert_window_days - 1)
    recent = [i for i, item in enumerate(items) if item.day >= current]
    before = [i for i, item in enumerate(items) if item.day < current]
    documents = [topics.words(item.text) for item in items]
    embeddings = topics._unit(vectors - vectors.mean(axis=0))
    tfidf = topics._hashed_tfidf(documents)
    near = topics.similarity(embeddings, tfidf, recent, recent) >= args.similarity
    weeks = settings.alert_baseline_days / 7
    print(f"{len(items)} negative items, {len(recent)} this week, similarity ≥ "
          f"{args.similarity}")
    found_lift = 0
    for leader, members in topics.clusters(near, settings.alert_topic_min_items):
        chosen = [recent[m] for m in members]
        prior = int((topics.similarity(embeddings, tfidf, [recent[leader]], before)
                     >= args.similarity).sum())
        new = prior / weeks * topics.NOVELTY_FACTOR <= len(chosen)
        others = [i for i in range(len(items)) if i not in set(chosen)]
        hits = len(lift & set(chosen))
        found_lift = max(found_lift, hits if new else 0)
        print(f"- {'NEW ' if new else 'known'} {len(chosen)} items ({hits} lift reports), "
              f"{prior} similar before; label {' · '.join(topics.label(documents, chosen, others))}")
        for i in chosen:
            print(f"    {items[i].channel:9} {items[i].text[:70]}")
    print(f"lift reports in the emerging topic: {found_lift} of {len(LIFT)}")


if __name__ == "__main__":
    main()
