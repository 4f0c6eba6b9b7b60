"""Classifier heads an authority refitted from its corrections, kept in its own database.

A head is stored as the bytes of its safetensors file (labels, thresholds and metadata
included), so the store needs to know nothing about models.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.store.models import Authority, AuthorityHead


def save_authority_head(
    session: Session, authority_id: int, task: str, head: bytes, metrics: dict[str, Any]
) -> AuthorityHead:
    """Record a new head for ``task``; it replaces the previous one (kept for history)."""
    row = AuthorityHead(authority_id=authority_id, task=task, head=head, metrics=metrics)
    session.add(row)
    session.flush()
    return row


def latest_authority_heads(session: Session, authority_id: int) -> dict[str, AuthorityHead]:
    """The newest head of each task of the authority."""
    rows = session.scalars(
        select(AuthorityHead).where(AuthorityHead.authority_id == authority_id)
        .order_by(AuthorityHead.id)
    )
    return {row.task: row for row in rows}


def authority_head_bytes(session: Session, slug: str) -> dict[str, bytes]:
    """``{task: head bytes}`` of the authority with this slug (empty when it has none)."""
    authority = session.scalars(select(Authority).where(Authority.slug == slug)).first()
    if authority is None:
        return {}
    return {task: row.head for task, row in latest_authority_heads(session, authority.id).items()}
