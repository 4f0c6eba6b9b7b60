"""Structured logs."""

from __future__ import annotations

import json
import logging

import pytest

from ecoute.config.settings import Settings
from ecoute.observability import configure_logging


def test_json_logs_are_one_object_per_line(capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging(Settings(log_format="json"))
        logging.getLogger("ecoute.test").warning("source %s failed", "feed",
                                                 extra={"source_id": 7})
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("ecoute.test").exception("crash")
    finally:
        root.handlers, root.level = saved[0], saved[1]
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]
    assert lines[0]["message"] == "source feed failed"
    assert lines[0]["level"] == "warning" and lines[0]["source_id"] == 7
    assert lines[0]["logger"] == "ecoute.test" and "ts" in lines[0]
    assert "ValueError: boom" in lines[1]["exception"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_personal_data_is_masked_in_log_records(
    capfd: pytest.CaptureFixture[str], log_format: str
) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging(Settings(log_format=log_format))
        log = logging.getLogger("ecoute.test")
        log.warning("mail from %s refused", "jean.dupont@example.org",
                    extra={"sender": "call 06 12 34 56 78"})
        try:
            raise ValueError("bad address jean.dupont@example.org")
        except ValueError:
            log.exception("crash")
    finally:
        root.handlers, root.level = saved[0], saved[1]
    err = capfd.readouterr().err
    assert "jean.dupont" not in err and "06 12 34 56 78" not in err
    assert "mail from [EMAIL] refused" in err and "ValueError: bad address [EMAIL]" in err
    if log_format == "json":
        assert json.loads(err.splitlines()[0])["sender"] == "call [PHONE]"


def test_quarantine_payloads_keep_their_type_and_lose_personal_data() -> None:
    from ecoute.privacy import redact_payload

    assert redact_payload("ligne de jean@example.org") == "ligne de [EMAIL]"
    assert redact_payload("nul\x00 jean@example.org".encode()) == b"nul\x00 [EMAIL]"
    # Windows-1252 export: not UTF-8, read byte for byte; the other bytes are kept.
    cp1252 = "réclamation de jean@example.org\xff".encode("latin-1")
    assert redact_payload(cp1252) == "réclamation de [EMAIL]\xff".encode("latin-1")
