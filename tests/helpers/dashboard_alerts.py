"""Alerts of the dashboard database, shaped as the assessment layer raises them, one of them
naming a source with a hostile name."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from ecoute.store.alerts import Finding, sync_alerts
from ecoute.store.models import AlertKind, Authority

HOSTILE_SOURCE = "<script>window.hacked=3</script>"


def add_alerts(session: Session, authority: Authority, today: date) -> None:
    """A significant drop of courtesy over the last 7 days and a silent source."""
    start = today - timedelta(days=6)
    drop = Finding(
        AlertKind.DETERMINANT_DROP, "determinant_drop:courtesy",
        "Courtesy: 40% positive over the last 7 days, down from 75% (p = 0.012)",
        {"determinant": "courtesy", "share_positive": 0.4, "n": 35, "positive": 14,
         "baseline_share_positive": 0.75, "baseline_n": 120, "baseline_positive": 90,
         "drop": 0.35, "p_value": 0.012, "window": [start.isoformat(), today.isoformat()],
         "baseline": [(start - timedelta(days=28)).isoformat(),
                      (start - timedelta(days=1)).isoformat()]})
    silent = Finding(
        AlertKind.SOURCE_SILENT, "source_silent:999",
        f"Source {HOSTILE_SOURCE!r} (every 30 minutes) is silent",
        {"source_id": 999, "source": HOSTILE_SOURCE, "kind": "rss",
         "schedule": "every 30 minutes", "items": 0, "last_success_at": None,
         "consecutive_failures": 4, "last_error": "timeout", "expected_by": None})
    sync_alerts(session, authority.id, {AlertKind.DETERMINANT_DROP, AlertKind.SOURCE_SILENT},
                [drop, silent])
