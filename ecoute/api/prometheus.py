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
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.deps import CurrentKey, SettingsDep, anonymous_read_allowed
from ecoute.errors import Forbidden, Unauthorized
from ecoute.observability import PROCESS_REGISTRY
from ecoute.store.db import session_scope
from ecoute.store.items import latest_model_version, pending_count
from ecoute.store.models import (
    Authority,
    CollectionRun,
    Item,
    Quarantine,
    Role,
    RunStatus,
    Source,
)

router = APIRouter(tags=["metrics"])


class StoreCollector(Collector):
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def collect(self) -> Iterator[Metric]:
        with session_scope(self.factory) as session:
            yield from self._collect(session)
        yield from PROCESS_REGISTRY.collect()

    def _collect(self, session: Session) -> Iterator[Metric]:
        labels = ["authority", "source"]
        names = {
            sid: (slug, name) for sid, slug, name in session.execute(
                select(Source.id, Authority.slug, Source.name)
                .join(Authority, Authority.id == Source.authority_id))
        }
        items = GaugeMetricFamily("ecoute_items", "Items stored, per source and channel.",
                                  labels=[*labels, "channel"])
        for sid, channel, n in session.execute(
            select(Item.source_id, Item.channel, func.count()).group_by(Item.source_id,
                                                                        Item.channel)
        ):
            items.add_metric([*names.get(sid, ("?", str(sid))), channel], n)
        yield items
        quarantine = GaugeMetricFamily("ecoute_quarantine_unresolved",
                                       "Quarantined entries not yet resolved.", labels=labels)
        for sid, n in session.execute(
            select(Quarantine.source_id, func.count()).where(Quarantine.resolved_at.is_(None))
            .group_by(Quarantine.source_id)
        ):
            quarantine.add_metric(list(names.get(sid, ("?", str(sid)))), n)
        yield quarantine
        # Counted against the model each authority's workers run now, so that the items a
        # new model has to tag again are in the queue too.
        queue = sum(
            pending_count(session, latest_model_version(session, authority_id),
                          authority_id=authority_id)
            for authority_id in session.scalars(select(Authority.id))
        )
        yield GaugeMetricFamily("ecoute_classify_queue", "Items waiting for classification.",
                                value=queue)
        success = GaugeMetricFamily("ecoute_source_last_success_timestamp_seconds",
                                    "When each source last ran successfully.", labels=labels)
        failures = GaugeMetricFamily("ecoute_source_consecutive_failures",
                                     "Failed runs in a row (0 when healthy).", labels=labels)
        for s in session.scalars(select(Source)):
            key = list(names[s.id])
            if s.last_success_at is not None:
                success.add_metric(key, s.last_success_at.timestamp())
            failures.add_metric(key, s.consecutive_failures)
        yield success
        yield failures
        yield from self._durations(session, names)

    def _durations(self, session: Session, names: dict[int, tuple[str, str]]) -> Iterator[Metric]:
        latest = (
            select(CollectionRun.source_id, func.max(CollectionRun.id).label("id"))
            .where(CollectionRun.status != RunStatus.RUNNING)
            .group_by(CollectionRun.source_id).subquery()
        )
        duration = GaugeMetricFamily("ecoute_source_last_run_seconds",
                                     "Duration of each source's last finished run.",
                                     labels=["authority", "source", "status"])
        for run in session.scalars(select(CollectionRun).join(latest, latest.c.id ==
                                                               CollectionRun.id)):
            if run.finished_at is not None and run.source_id in names:
                seconds = (run.finished_at - run.started_at).total_seconds()
                duration.add_metric([*names[run.source_id], run.status], max(seconds, 0.0))
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
