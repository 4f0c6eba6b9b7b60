"""Runs a collector outside the runner, against real local servers, to inspect what it yields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecoute.collectors.base import CollectContext, Collector, RawItem, Rejected, SourceFigures
from ecoute.collectors.http.client import HttpFetcher
from ecoute.config.settings import Settings


def collect_all(
    collector: Collector, *, cursor: dict[str, Any] | None = None, tmp: Path | None = None
) -> tuple[list[RawItem], list[Rejected], CollectContext]:
    """Everything ``collector`` yields in one run, split into items and rejections, with the
    context (whose cursor the collector advanced)."""
    settings = Settings(database_url=f"sqlite:///{tmp or '.'}/unused.db", http_allow_private=True)
    with HttpFetcher(allow_private=True, retries=0) as http:
        ctx = CollectContext(source_name="test", options=collector.options, settings=settings,
                             http=http, cursor=dict(cursor or {}))
        out = list(collector.collect(ctx))
    return ([o for o in out if isinstance(o, RawItem)],
            [o for o in out if isinstance(o, Rejected)], ctx)


def collect_figures(collector: Collector, *, tmp: Path | None = None) -> list[SourceFigures]:
    """The source's own figures ``collector`` yields in one run (items are left out)."""
    settings = Settings(database_url=f"sqlite:///{tmp or '.'}/unused.db", http_allow_private=True)
    with HttpFetcher(allow_private=True, retries=0) as http:
        ctx = CollectContext(source_name="test", options=collector.options, settings=settings,
                             http=http)
        return [o for o in collector.collect(ctx) if isinstance(o, SourceFigures)]
