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
