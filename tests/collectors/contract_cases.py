"""For every registered collector kind: options of a working source and of a failing one.

The contract test in ``test_contract.py`` runs each case; a kind registered without a case
here makes that test fail, so no collector ships untested. Every case reads only files of the
repository (tests/fixtures, with their licences beside them), so it runs on a fresh clone.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES
from tests.helpers.servers import FileServer

Options = dict[str, Any]


@dataclass(frozen=True)
class ContractCase:
    #: Options of a source that yields at least one item (files may be written to tmp/www).
    working: Callable[[Path, FileServer], Options]
    #: Options of the same kind whose whole fetch fails (missing file, HTTP 500...).
    failing: Callable[[Path, FileServer], Options]
    #: Options that must be refused when the source is added.
    invalid: Options


def _rss_working(tmp: Path, server: FileServer) -> Options:
    shutil.copy(FIXTURES / "feeds/item_description.xml", server.root / "feed.xml")
    return {"url": server.url("feed.xml")}


def _html_reviews_working(tmp: Path, server: FileServer) -> Options:
    shutil.copy(FIXTURES / "html_reviews/null_ld_mock.html", server.root / "reviews.html")
    return {"url": server.url("reviews.html")}


def _mastodon_working(tmp: Path, server: FileServer) -> Options:
    timeline = server.root / "api/v1/timelines/tag/valmont"
    timeline.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "mastodon/tag_timeline.json", timeline)
    return {"instance": server.base_url, "hashtags": ["valmont"]}


def _open311_working(tmp: Path, server: FileServer) -> Options:
    # Served whatever the query string: a recorded answer, empty descriptions included.
    shutil.copy(FIXTURES / "open311/service_requests.xml", server.root / "requests.xml")
    return {"endpoint": server.url("/"), "format": "xml"}


def _documents_working(tmp: Path, server: FileServer) -> Options:
    from tests.helpers.documents import write_docx

    folder = tmp / "minutes"
    folder.mkdir()
    write_docx(folder / "conseil-ecole-2026-03-12.docx")
    return {"path": str(folder), "body": "school council"}


def _survey_file_working(tmp: Path, server: FileServer) -> Options:
    folder = tmp / "surveys"
    folder.mkdir()
    shutil.copy(FIXTURES / "surveys/qualtrics_sample.csv", folder / "export.csv")
    return {"path": str(folder), "pattern": "*.csv"}


def _complaint_log_working(tmp: Path, server: FileServer) -> Options:
    (tmp / "register.csv").write_text(
        "Numéro;Date de réception;Réclamation\n1;02/03/2024;Une heure d'attente au guichet\n",
        encoding="cp1252")
    return {"path": str(tmp / "register.csv")}


def _mailbox_working(tmp: Path, server: FileServer) -> Options:
    from tests.helpers.emails import MESSAGES, write_maildir

    return {"path": str(write_maildir(tmp / "Maildir", [make() for make in MESSAGES]))}


def _audit_grid_working(tmp: Path, server: FileServer) -> Options:
    (tmp / "grid.csv").write_text("Visite;Date;Accueil\nV1;12/03/2024;oui\n")
    return {"path": str(tmp / "grid.csv"), "criteria": {"Accueil": "courtesy"}}


def _push_working(tmp: Path, server: FileServer) -> Options:
    path = tmp / "records.ndjson"
    path.write_text('{"external_id": "r1", "text": "Accueil très aimable à la mairie."}\n'
                    '{"external_id": "r2", "text": "Trop d\'attente au guichet."}\n',
                    encoding="utf-8")
    return {"path": str(path)}


def _call_log_working(tmp: Path, server: FileServer) -> Options:
    folder = tmp / "acd"
    folder.mkdir()
    shutil.copy(FIXTURES / "call_log/queue_interval_report_fr.csv", folder / "report.csv")
    return {"path": str(folder), "pattern": "*.csv"}


CASES: dict[str, ContractCase] = {
    "rss": ContractCase(
        working=_rss_working,
        failing=lambda tmp, server: {"url": server.url("missing.xml")},
        invalid={"url": "", "unknown_option": 1},
    ),
    "mastodon": ContractCase(
        working=_mastodon_working,
        failing=lambda tmp, server: {"instance": server.url("gone"), "hashtags": ["valmont"]},
        invalid={"instance": "https://mastodon.example", "mentions": True},
    ),
    "open311": ContractCase(
        working=_open311_working,
        failing=lambda tmp, server: {"endpoint": server.url("gone/")},
        invalid={"endpoint": "", "window_days": 365},
    ),
    "html_reviews": ContractCase(
        working=_html_reviews_working,
        failing=lambda tmp, server: {"url": server.url("missing.html")},
        invalid={"url": "https://example.org/avis", "selectors": {"container": "li["}},
    ),
    "documents": ContractCase(
        working=_documents_working,
        failing=lambda tmp, server: {"path": str(tmp / "no-such-folder")},
        invalid={"path": "", "min_words": 0},
    ),
    "survey_file": ContractCase(
        working=_survey_file_working,
        failing=lambda tmp, server: {"path": str(tmp / "no-such-export.csv")},
        invalid={"path": "export.csv", "ratings": {"Q1": "1-12"}},
    ),
    "complaint_log": ContractCase(
        working=_complaint_log_working,
        failing=lambda tmp, server: {"path": str(tmp / "no-such-register.csv")},
        invalid={"path": "register.csv", "columns": {"texte": "Réclamation"}},
    ),
    "mailbox": ContractCase(
        working=_mailbox_working,
        failing=lambda tmp, server: {"path": str(tmp / "no-such-Maildir")},
        invalid={"host": "imap.example.org", "path": "/var/mail/x"},
    ),
    "audit_grid": ContractCase(
        working=_audit_grid_working,
        failing=lambda tmp, server: {"path": str(tmp / "no-such-grid.csv"),
                                     "criteria": {"Accueil": "courtesy"}},
        invalid={"path": "grid.csv", "criteria": {}},
    ),
    "push": ContractCase(
        working=_push_working,
        failing=lambda tmp, server: {"path": str(tmp / "no-such-records.ndjson")},
        invalid={"path": "", "channel": "pigeon"},
    ),
    "call_log": ContractCase(
        working=_call_log_working,
        failing=lambda tmp, server: {"path": str(tmp / "no-such-acd-export.csv")},
        invalid={"path": "report.csv", "columns": {"calls": "Appels"}},
    ),
}
