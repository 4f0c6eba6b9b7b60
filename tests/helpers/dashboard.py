"""A dashboard database: feedback collected by the real runner and classified by the tiny
model, with users of every role, a quarantined entry and a review that tries to inject HTML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from sqlalchemy import Engine

from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.pending import classify_pending
from ecoute.classifiers.transformer import TransformerSentiment
from ecoute.collectors.base import RawItem
from ecoute.collectors.runner import SourceRunner
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority, get_authority
from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade
from ecoute.store.sources import get_source_by_name
from ecoute.store.users import create_user
from tests.helpers.dashboard_alerts import add_alerts
from tests.helpers.seed import write_feed

PASSWORD = "correct horse battery"
#: Typed by a user and stored as text: the page must show it, never run it.
HOSTILE = ("<script>window.hacked=1</script> <img src=x onerror=\"window.hacked=2\"> "
           "accueil chaleureux merci")

WELCOME = [
    "Accueil chaleureux merci", "Personnel très aimable", "Accueil minable !",
    "Friendly staff but 40 minutes of waiting.", "great welcome, very kind and helpful agent",
    "rude staff at the desk", "Agent poli et souriant", "Personnel désagréable au guichet",
]
WAITING = [
    "Attente interminable au guichet.", "waiting forever at the town hall",
    "horrible waiting, never again terrible", "super rapide, très bien merci",
    "quick service thank you", "minutes of waiting before anyone came",
]


@dataclass
class Dashboard:
    settings: Settings
    engine: Engine
    viewer_key: str
    ingest_key: str
    officer_key: str


def _source(factory: object, settings: Settings, folder: Path, name: str, texts: list[str],
            *, department: str, site: str, channel: str, start: datetime) -> None:
    path = write_feed(folder / f"{name}.rss", texts, start=start, prefix=name)
    with session_scope(factory) as session:  # type: ignore[arg-type]
        source_id = add_source(session, authority="demo", name=name, kind="rss",
                               options={"url": str(path), "channel": channel},
                               department=department, site=site).id
    report = run_source(factory, settings, source_id)  # type: ignore[arg-type]
    assert report.new == len(texts), report


def build_dashboard(folder: Path, tiny_model_dir: Path) -> Dashboard:
    """A migrated SQLite database with about 90 classified items over four months."""
    folder.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{folder / 'dashboard.db'}")
    upgrade(engine)
    settings = Settings(database_url=str(engine.url), cache_dir=folder / "cache",
                        http_allow_private=True, http_host_interval=0.0, min_sample_size=5,
                        file_roots=[folder])
    factory = make_session_factory(engine)
    now = datetime.now(timezone.utc) - timedelta(hours=2)
    with session_scope(factory) as session:
        ensure_authority(session, "demo", name="Ville de Valmont", locale="fr")
    # Welcome feedback every 2 days for four months; waiting-time feedback at the annex.
    _source(factory, settings, folder, "avis-accueil", (WELCOME * 8)[:60],
            department="Accueil", site="Hôtel de ville", channel="review", start=now)
    _source(factory, settings, folder, "signalements", (WAITING * 5)[:30],
            department="Voirie", site="Annexe nord", channel="service_request",
            start=now - timedelta(hours=5))
    # A feed's HTML is turned into text by the collector, which drops tags: the hostile text
    # comes the way a pushed record or a spreadsheet cell does, as text.
    with session_scope(factory) as session:
        accueil = get_source_by_name(session, get_authority(session, "demo").id, "avis-accueil")
        accueil_id = accueil.id
    report = SourceRunner(factory, settings).store_entries(accueil_id, [RawItem(
        external_id="hostile", text=HOSTILE, title="<b>Titre</b> <i onmouseover=x>",
        published_at=now - timedelta(hours=1), department="Accueil")])
    assert report.new == 1, report
    broken = folder / "broken.rss"
    broken.write_text('<?xml version="1.0"?><rss><channel><item><title>Écrire à '
                      'jean.dupont@example.org, cut', encoding="utf-8")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="export-tronque", kind="rss",
                               options={"url": str(broken)}).id
    assert run_source(factory, settings, source_id).quarantined >= 1
    classifier = LexiconSentenceClassifier(TransformerSentiment(tiny_model_dir), load_lexicon())
    classify_pending(factory, classifier)
    with session_scope(factory) as session:
        demo = get_authority(session, "demo")
        for role in ("admin", "officer", "viewer"):
            create_user(session, username=role, password=PASSWORD, role=role, authority=demo)
        _key, viewer_key = create_key(session, role="viewer", authority=demo)
        _key, ingest_key = create_key(session, role="ingest", authority=demo)
        _key, officer_key = create_key(session, role="officer", authority=demo)
        other = ensure_authority(session, "elsewhere", name="Autre ville")
        create_user(session, username="stranger", password=PASSWORD, role="officer",
                    authority=other)
        add_alerts(session, demo, now.date())
    return Dashboard(settings, engine, viewer_key, ingest_key, officer_key)


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD, *,
            follow_redirects: bool = True, **extra: str) -> httpx.Response:
    """Sign in through the form as a browser does (token cookie, then the post)."""
    page = client.get("/signin")
    token = page.text.split('name="signin_token" value="', 1)[1].split('"', 1)[0]
    return client.post("/signin", data={"signin_token": token, "username": username,
                                        "password": password, **extra},
                       follow_redirects=follow_redirects)


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
