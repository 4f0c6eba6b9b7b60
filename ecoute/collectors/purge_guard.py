"""What the runner must not store again: items that retention or an erasure took out.

A source often keeps offering what ecoute has purged (a feed listing years of posts, a file
imported again). Stored anew, a deleted item would be counted a second time in the rollups
(which kept its figures on retention), an anonymised one would get its text back through an
update, and an erased person's message would return. So an entry is refused, and counted as a
duplicate, when

- a tombstone of its source holds its external id (or, for a source deduplicated by content,
  its content hash): retention deleted it or an erasure removed it;
- it is already stored and anonymised: nothing of it may change again;
- it is new but published before its kind's retention cutoff: the next purge would remove it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy.orm import Session

from ecoute.collectors.base import RawItem
from ecoute.config.settings import Settings
from ecoute.store.models import Item
from ecoute.store.purged import purged_among
from ecoute.store.retention import is_anonymised, retention_cutoff


class Refusal(StrEnum):
    PURGED = "purged"
    ANONYMISED = "anonymised"
    EXPIRED = "expired"


@dataclass(frozen=True)
class PurgeGuard:
    """The purged ids and hashes among one batch of a source, and its retention cutoff."""

    purged_ids: frozenset[str]
    purged_hashes: frozenset[str]
    cutoff: datetime | None

    @classmethod
    def for_batch(
        cls, session: Session, settings: Settings, source_id: int, kind: str,
        raws: list[RawItem], hashes: list[str], by_content: bool,
    ) -> PurgeGuard:
        ids, digests = purged_among(session, source_id, (r.external_id for r in raws),
                                    hashes if by_content else ())
        return cls(frozenset(ids), frozenset(digests), retention_cutoff(settings, kind))

    def refusal(self, raw: RawItem, digest: str, stored: Item | None) -> Refusal | None:
        """Why ``raw`` (whose stored row, if any, is ``stored``) must not be written."""
        if stored is not None:
            return Refusal.ANONYMISED if is_anonymised(stored) else None
        if raw.external_id in self.purged_ids or digest in self.purged_hashes:
            return Refusal.PURGED
        if self.cutoff is not None and raw.published_at is not None:
            published = raw.published_at
            if published.tzinfo is None:  # the store reads naive dates as UTC, so do we
                published = published.replace(tzinfo=timezone.utc)
            if published < self.cutoff:
                return Refusal.EXPIRED
        return None
