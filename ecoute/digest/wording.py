"""The words of a digest in French and English. Determinant names come from the lexicon the
authority uses (its ``label`` entries), so that the e-mail and the classifier agree."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from ecoute.domain import DETERMINANTS

LOCALES = ("fr", "en")

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "subject_weekly": "{authority} : ce que disent les usagers, semaine du {start}",
        "subject_monthly": "{authority} : ce que disent les usagers, {month}",
        "intro_weekly": "Semaine du {start} au {end}",
        "intro_monthly": "{month} (du {start} au {end})",
        "scope": "Périmètre :",
        "whole": "toute la collectivité",
        "figures": "Satisfaction par déterminant",
        "figures_note": "Part des mentions positives parmi les mentions positives et négatives, "
                        "avec son intervalle de confiance à 95 % ; au moins {min_n} mentions "
                        "pour donner un chiffre.",
        "determinant": "Déterminant",
        "share": "Part positive",
        "interval": "Intervalle 95 %",
        "mentions": "Mentions",
        "change": "Évolution",
        "average": "Moyenne 4 {periods}",
        "periods_weekly": "semaines",
        "periods_monthly": "mois",
        "overall": "Sentiment global",
        "not_enough": "pas assez de données",
        "up": "en hausse ({delta} pts, p = {p})",
        "down": "en baisse ({delta} pts, p = {p})",
        "steady": "stable",
        "no_previous": "—",
        "empty": "Pas assez de données pour cette période : {n} avis classés. Les chiffres "
                 "apparaîtront quand au moins {min_n} mentions seront réunies.",
        "alerts": "Alertes de la période",
        "no_alerts": "Aucune alerte.",
        "volume": "Volume par canal",
        "channel": "Canal",
        "items_label": "Avis",
        "previous": "Période précédente",
        "verbatims": "Ce que disent les usagers",
        "verbatims_of": "{determinant} — {direction}",
        "said_negative": "critiques",
        "said_positive": "compliments",
        "sources": "Sources à vérifier",
        "source_failed": "{name} : la collecte échoue ({failures} échecs de suite) — {error}",
        "source_silent": "{name} : aucun avis cette période (il y en avait {baseline} sur les "
                         "{count} précédentes)",
        "sources_ok": "Toutes les sources ont fonctionné.",
        "dashboard": "Voir ces chiffres dans le tableau de bord",
        "unsubscribe": "Se désabonner",
        "footer": "Vous recevez ce courriel car vous êtes abonné·e au résumé {frequency} "
                  "d'ecoute pour {authority}.",
        "frequency_weekly": "hebdomadaire",
        "frequency_monthly": "mensuel",
        "chart_determinants": "Part positive par déterminant, {period}",
        "chart_volume": "Avis par canal, {period} et période précédente",
        "unsubscribe_title": "Désabonnement",
        "unsubscribe_confirm": "Ne plus recevoir le résumé {frequency} de {authority} à "
                               "l'adresse {email} ?",
        "unsubscribe_button": "Me désabonner",
        "unsubscribe_done": "C'est fait : {email} ne recevra plus le résumé {frequency} de "
                            "{authority}.",
    },
    "en": {
        "subject_weekly": "{authority}: what users said, week of {start}",
        "subject_monthly": "{authority}: what users said, {month}",
        "intro_weekly": "Week of {start} to {end}",
        "intro_monthly": "{month} ({start} to {end})",
        "scope": "Scope:",
        "whole": "the whole authority",
        "figures": "Satisfaction by determinant",
        "figures_note": "Share of positive mentions among positive and negative ones, with its "
                        "95 % confidence interval; at least {min_n} mentions for a figure.",
        "determinant": "Determinant",
        "share": "Share positive",
        "interval": "95 % interval",
        "mentions": "Mentions",
        "change": "Change",
        "average": "4-{periods} average",
        "periods_weekly": "week",
        "periods_monthly": "month",
        "overall": "Overall sentiment",
        "not_enough": "not enough data",
        "up": "up ({delta} pts, p = {p})",
        "down": "down ({delta} pts, p = {p})",
        "steady": "steady",
        "no_previous": "—",
        "empty": "Not enough data for this period: {n} classified items. Figures will appear "
                 "once at least {min_n} mentions are gathered.",
        "alerts": "Alerts of the period",
        "no_alerts": "No alert.",
        "volume": "Volume by channel",
        "channel": "Channel",
        "items_label": "Items",
        "previous": "Previous period",
        "verbatims": "What users said",
        "verbatims_of": "{determinant} — {direction}",
        "said_negative": "complaints",
        "said_positive": "praise",
        "sources": "Sources to check",
        "source_failed": "{name}: collection fails ({failures} failures in a row) — {error}",
        "source_silent": "{name}: nothing this period (it brought {baseline} over the "
                         "{count} before)",
        "sources_ok": "Every source worked.",
        "dashboard": "See these figures in the dashboard",
        "unsubscribe": "Unsubscribe",
        "footer": "You receive this e-mail because you subscribed to ecoute's {frequency} "
                  "digest for {authority}.",
        "frequency_weekly": "weekly",
        "frequency_monthly": "monthly",
        "chart_determinants": "Share positive by determinant, {period}",
        "chart_volume": "Items by channel, {period} and the period before",
        "unsubscribe_title": "Unsubscribe",
        "unsubscribe_confirm": "Stop sending the {frequency} digest of {authority} to {email}?",
        "unsubscribe_button": "Unsubscribe",
        "unsubscribe_done": "Done: {email} will no longer receive the {frequency} digest of "
                            "{authority}.",
    },
}

CHANNELS: dict[str, dict[str, str]] = {
    "fr": {"review": "Avis en ligne", "social": "Réseaux sociaux", "complaint": "Réclamations",
           "survey": "Enquêtes", "service_request": "Signalements", "minutes": "Comptes rendus",
           "email": "Courriels", "elected_feedback": "Élus", "phone": "Téléphone",
           "audit": "Visites mystère"},
    "en": {"review": "Online reviews", "social": "Social media", "complaint": "Complaints",
           "survey": "Surveys", "service_request": "Service requests", "minutes": "Minutes",
           "email": "E-mails", "elected_feedback": "Elected representatives",
           "phone": "Phone", "audit": "Mystery visits"},
}

MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}


def words(locale: str) -> dict[str, str]:
    return WORDS[locale if locale in WORDS else "en"]


def channel_label(channel: str, locale: str) -> str:
    return CHANNELS.get(locale, CHANNELS["en"]).get(channel, channel)


@lru_cache(maxsize=8)
def determinant_labels(lexicon: Path | None, locale: str) -> dict[str, str]:
    """Determinant → its name in ``locale`` from the lexicon file (the shipped one when
    ``lexicon`` is None); a determinant the file does not name keeps its identifier."""
    if lexicon is None:
        text = files("ecoute.config").joinpath("determinants.toml").read_text(encoding="utf-8")
    else:
        text = lexicon.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    labels = {}
    for name in DETERMINANTS:
        entry = data.get(name, {}).get("label", {})
        labels[name] = entry.get(locale) or entry.get("en") or name.replace("_", " ")
    return labels
