"""``ecoute privacy erase|export|purge``, invoked in-process on a migrated SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ecoute.config.settings import get_settings
from ecoute.privacy import pseudonym
from ecoute.store.db import make_engine, make_session_factory, session_scope
from ecoute.store.models import Item, Source
from tests.cli.test_keys import cli, run  # noqa: F401  (the fixture)

EMAIL = "jeanne@example.org"


def _item(author: str | None, text: str, external_id: str) -> None:
    settings = get_settings()
    factory = make_session_factory(make_engine(settings.database_url))
    with session_scope(factory) as session:
        source = session.query(Source).filter_by(name="push").one_or_none()
        if source is None:
            from ecoute.collectors.service import add_source

            source = add_source(session, authority="demo", name="push", kind="rss",
                                options={"url": "https://example.org/feed"})
            session.flush()
        session.add(Item(authority_id=source.authority_id, source_id=source.id,
                         external_id=external_id, content_hash=external_id, channel="review",
                         text=text, author_hash=pseudonym(author, settings.pseudonym_key)))


def test_export_then_erase_with_a_receipt(cli: CliRunner, tmp_path: Path) -> None:  # noqa: F811
    _item(EMAIL, "Accueil très aimable", "a")
    _item("paul@example.org", "Horaires pratiques", "b")
    exported = json.loads(run(cli, "privacy", "export", "--email", EMAIL)[0])
    assert [i["external_id"] for i in exported["items"]] == ["a"]
    dry = json.loads(run(cli, "privacy", "erase", "--email", EMAIL, "--dry-run", "--json")[0])
    assert dry["items_removed"] == 1 and dry["dry_run"]
    output, _ = run(cli, "privacy", "erase", "--email", EMAIL)
    assert "removed: 1 items" in output and EMAIL not in output
    assert json.loads(run(cli, "privacy", "export", "--email", EMAIL)[0])["items"] == []
    output, error = run(cli, "privacy", "erase", "--email", EMAIL, "--item", "2", ok=False)
    assert error is not None and "exactly one" in str(error)
    assert "0 items deleted" in run(cli, "privacy", "purge")[0]
