"""Running file collectors in tests, without and with the store."""

from __future__ import annotations

import logging
from typing import Any
from unittest.mock import MagicMock

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.base import CollectContext, RawItem, Rejected
from ecoute.collectors.registry import get_collector
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import Item, Quarantine


def collect(kind: str, cursor: dict[str, Any] | None = None, **options: Any
            ) -> list[RawItem | Rejected]:
    """Everything a ``kind`` collector yields for ``options`` (no database involved)."""
    cls = get_collector(kind)
    collector = cls(cls.Options.model_validate(options))
    ctx = CollectContext(source_name="test", options=collector.options, settings=Settings(),
                         http=MagicMock(), cursor=cursor if cursor is not None else {},
                         logger=logging.getLogger("test"))
    return list(collector.collect(ctx))


def items(entries: list[RawItem | Rejected]) -> list[RawItem]:
    return [e for e in entries if isinstance(e, RawItem)]


def rejected(entries: list[RawItem | Rejected]) -> list[Rejected]:
    return [e for e in entries if isinstance(e, Rejected)]


def stored(factory: sessionmaker[Session]) -> tuple[list[Item], list[Quarantine]]:
    with session_scope(factory) as session:
        found = list(session.scalars(select(Item).order_by(Item.external_id)))
        quarantined = list(session.scalars(select(Quarantine).order_by(Quarantine.id)))
        session.expunge_all()
    return found, quarantined
