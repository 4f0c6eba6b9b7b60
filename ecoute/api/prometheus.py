"""``/metrics`` in Prometheus' text format.

Store figures (items per source and channel, quarantine, queue depth, source health, run
durations) are read from the database at each scrape, so any process serving the API reports
the whole installation; counters of work done (items classified, runs) are those of the
serving process (``ecoute run`` does its work in the process that serves the API).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.deps import CurrentKey, SettingsDep, anonymous_read_allowed
from ecoute.errors import Forbidden, Unauthorized
from ecoute.observability import PROCESS_REGISTRY
from ecoute.store import gauges
from ecoute.store.db import session_scope
from ecoute.store.models import Role

router = APIRouter(tags=["metrics"])


class StoreCollector(Collector):
    """Formats the store's figures (``ecoute.store.gauges``) for Prometheus."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def collect(self) -> Iterator[Metric]:
        with session_scope(self.factory) as session:
            yield from self._collect(session)
        yield from PROCESS_REGISTRY.collect()

    def _collect(self, session: Session) -> Iterator[Metric]:
        labels = ["authority", "source"]
        sources = gauges.source_gauges(session)
        names = {s.source_id: [s.authority, s.name] for s in sources}

        def named(source_id: int) -> list[str]:
            return names.get(source_id, ["?", str(source_id)])

        items = GaugeMetricFamily("ecoute_items", "Items stored, per source and channel.",
                                  labels=[*labels, "channel"])
        for sid, channel, n in gauges.items_per_source_channel(session):
            items.add_metric([*named(sid), channel], n)
        yield items
        quarantine = GaugeMetricFamily("ecoute_quarantine_unresolved",
                                       "Quarantined entries not yet resolved.", labels=labels)
        for sid, n in gauges.unresolved_quarantine(session):
            quarantine.add_metric(named(sid), n)
        yield quarantine
        yield GaugeMetricFamily("ecoute_classify_queue", "Items waiting for classification.",
                                value=gauges.classify_queue(session))
        success = GaugeMetricFamily("ecoute_source_last_success_timestamp_seconds",
                                    "When each source last ran successfully.", labels=labels)
        failures = GaugeMetricFamily("ecoute_source_consecutive_failures",
                                     "Failed runs in a row (0 when healthy).", labels=labels)
        for s in sources:
            if s.last_success_at is not None:
                success.add_metric(named(s.source_id), s.last_success_at.timestamp())
            failures.add_metric(named(s.source_id), s.consecutive_failures)
        yield success
        yield failures
        duration = GaugeMetricFamily("ecoute_source_last_run_seconds",
                                     "Duration of each source's last finished run.",
                                     labels=["authority", "source", "status"])
        for sid, status, seconds in gauges.last_finished_runs(session):
            if sid in names:
                duration.add_metric([*names[sid], status], seconds)
        yield duration


def metrics_registry(factory: sessionmaker[Session]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(factory))
    return registry


METRICS_HINT = ("create one with `ecoute keys create --role admin --label prometheus` and set "
                "it as the scrape job's bearer token")


def _may_scrape(settings: SettingsDep, key: CurrentKey) -> None:
    """Anonymous where reads are (dev); else an admin key of the whole installation, since
    the figures name every authority and source (Prometheus sends it as a bearer token)."""
    if key is None:
        if not anonymous_read_allowed(settings):
            raise Unauthorized("/metrics needs an API key", hint=METRICS_HINT)
    elif key.role != Role.ADMIN or key.authority_id is not None:
        raise Forbidden("/metrics reports every authority: it needs an admin key created "
                        "without --authority", hint=METRICS_HINT)


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(_may_scrape)])
def metrics(request: Request) -> Response:
    """Prometheus scrape endpoint."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
