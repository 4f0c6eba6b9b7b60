"""A data-protection officer's requests: what ecoute holds about a person (right of access)
and removing it (right to erasure), for the CLI (``ecoute privacy``) and the API.

A person is named by their e-mail address, by their phone number (a volunteer of the phone
back-up team), by the author name a source gave, or by one item;
the e-mail or name is turned into the pseudonym stored in ``Item.author_hash`` with the
installation key, and also looked for in stored texts. docs/privacy.md is the reader's version.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.errors import InvalidRequest
from ecoute.privacy import pseudonym
from ecoute.store.erasure import (
    ErasureReceipt,
    Subject,
    erase,
    matching_items,
    matching_quarantine,
    mentions,
)
from ecoute.store.followups import events_of
from ecoute.store.items import latest_taggings, tags_for
from ecoute.store.models import Authority, CollectionRun, Followup, Source, utcnow
from ecoute.store.volunteer_privacy import matching_volunteers, phone_key, volunteer_export

ONE_OF = ("give exactly one of --email, --phone, --author or --item (API: email, phone, "
          "author or item_id)")


def subject_for(
    settings: Settings, *, email: str | None = None, author: str | None = None,
    item_id: int | None = None, phone: str | None = None,
) -> tuple[Subject, str]:
    """The subject of a request and how it was named (``email``, ``phone``, ``author`` or
    ``item``)."""
    given = [(k, v) for k, v in (("email", email), ("phone", phone), ("author", author),
                                 ("item", item_id)) if v not in (None, "")]
    if len(given) != 1:
        raise InvalidRequest("a request names one person or one item", hint=ONE_OF)
    kind, value = given[0]
    if kind == "item":
        return Subject(item_id=int(value)), kind  # type: ignore[arg-type]
    text = " ".join(str(value).split())
    if kind == "email" and "@" not in text:
        raise InvalidRequest(f"{text!r} is not an e-mail address",
                             hint="give the address as the person wrote it, name@example.org")
    if kind == "phone" and phone_key(text) is None:
        raise InvalidRequest(f"{text!r} is not a phone number",
                             hint="give the number as digits, e.g. 06 01 02 03 04")
    if kind == "author" and len(text) < 3:
        raise InvalidRequest("an author name of fewer than 3 letters would match too much",
                             hint="give the name as the source showed it")
    hashed = pseudonym(text, settings.pseudonym_key)
    return Subject(needles=(text,), pseudonyms=(hashed,) if hashed else ()), kind


def erase_request(
    session: Session, settings: Settings, *, email: str | None = None,
    author: str | None = None, item_id: int | None = None, authority: Authority | None = None,
    dry_run: bool = False, phone: str | None = None,
) -> ErasureReceipt:
    """Erase a person's data, of one authority or (``authority`` None) installation-wide."""
    subject, kind = subject_for(settings, email=email, author=author, item_id=item_id,
                                phone=phone)
    return erase(session, subject, authority_id=authority.id if authority else None,
                 authority_slug=authority.slug if authority else None, matched_by=kind,
                 dry_run=dry_run)


def receipt_dict(receipt: ErasureReceipt) -> dict[str, Any]:
    data = asdict(receipt)
    data["items_removed"] = len(receipt.items)
    return data


def followups_of(session: Session, item_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What was done about each item, officers' notes included: they are about the person."""
    found = {f.id: f for f in session.scalars(select(Followup).where(
        Followup.item_id.in_(item_ids)))} if item_ids else {}
    history = events_of(session, list(found))
    return {f.item_id: {
        "status": f.status, "received_at": f.received_at, "answered_at": f.answered_at,
        "closed_at": f.closed_at, "dismissed_reason": f.dismissed_reason,
        "events": [{"at": e.at, "action": e.action, "old_value": e.old_value,
                    "new_value": e.new_value, "note": e.note} for e in history[f.id]],
    } for f in found.values()}


def export_request(
    session: Session, settings: Settings, *, email: str | None = None,
    author: str | None = None, item_id: int | None = None, authority: Authority | None = None,
    phone: str | None = None,
) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data."""
    subject, kind = subject_for(settings, email=email, author=author, item_id=item_id,
                                phone=phone)
    scope = authority.id if authority else None
    items = matching_items(session, subject, scope)
    ids = [i.id for i in items]
    taggings = latest_taggings(session, ids)
    tags = tags_for(session, ids)
    sources = {s.id: s for s in session.scalars(select(Source))}
    slugs = {a.id: a.slug for a in session.scalars(select(Authority))}
    followups = followups_of(session, ids)
    out_items = []
    for item in items:
        tagging = taggings.get(item.id)
        out_items.append({
            "id": item.id, "authority": slugs.get(item.authority_id),
            "source": sources[item.source_id].name, "source_kind": sources[item.source_id].kind,
            "external_id": item.external_id, "channel": item.channel, "url": item.url,
            "title": item.title, "text": item.text, "lang": item.lang,
            "author_pseudonym": item.author_hash, "published_at": item.published_at,
            "collected_at": item.collected_at, "rating_value": item.rating_value,
            "rating_scale": item.rating_scale, "extra": item.extra,
            "sentiment": tagging.sentiment if tagging else None,
            "determinants": [{"determinant": t.determinant, "polarity": t.polarity,
                              "provenance": t.provenance} for t in tags[item.id]],
            "followup": followups.get(item.id),
        })
    quarantine = [{
        "id": q.id, "source": sources[q.source_id].name, "created_at": q.created_at,
        "position": q.position, "reason": q.message,
        "payload": q.payload_text if q.payload_text is not None
        else (q.payload_bytes or b"").decode("utf-8", "replace"),
    } for q in matching_quarantine(session, subject, scope)]
    runs = []
    if subject.strings:
        query = select(CollectionRun).where(mentions(CollectionRun.error, subject.strings))
        runs = [{"id": r.id, "source": sources[r.source_id].name, "started_at": r.started_at,
                 "error": r.error} for r in session.scalars(query)
                if scope is None or sources[r.source_id].authority_id == scope]
    volunteers = [{**volunteer_export(session, v), "authority": slugs.get(v.authority_id)}
                  for v in matching_volunteers(session, subject.needles, scope)]
    return {"exported_at": utcnow(), "matched_by": kind,
            "authority": authority.slug if authority else None,
            "items": out_items, "quarantine": quarantine, "collection_runs": runs,
            "volunteers": volunteers}
