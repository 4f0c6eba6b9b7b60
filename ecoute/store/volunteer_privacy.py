"""Volunteers as personal data: found by e-mail address or phone number for an access or
erasure request, exported, and erased by anonymising them.

Erasing a volunteer keeps their calls (when, how long: the hours and full-time equivalents of
the back-up team's report) and their department, and removes who they are: name, e-mail,
phone, skills, weekly slots and team memberships. The row stays so that the hours still add up
per department; nothing left in it names the person.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ecoute.store.models import (
    BackupActivation,
    BackupCall,
    BackupTeam,
    BackupTeamMember,
    Volunteer,
)

#: Digits of a phone number compared from the end, so that ``06 01 02 03 04`` and
#: ``+33 6 01 02 03 04`` are the same line (the national prefix and trunk zero differ).
PHONE_DIGITS = 9
#: Fewer digits than this is not a phone number (an extension, a year).
MIN_PHONE_DIGITS = 6
_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")


def phone_key(text: str | None) -> str | None:
    """The comparable part of a phone number, None when ``text`` is not one."""
    if not text or not _PHONE.match(text.strip()):
        return None
    digits = re.sub(r"\D", "", text)
    return digits[-PHONE_DIGITS:] if len(digits) >= MIN_PHONE_DIGITS else None


def matching_volunteers(session: Session, needles: Iterable[str],
                        authority_id: int | None = None) -> list[Volunteer]:
    """Volunteers whose e-mail address or phone number is one of ``needles``."""
    emails = {n.strip().lower() for n in needles if "@" in n}
    phones = {k for k in (phone_key(n) for n in needles) if k}
    if not emails and not phones:
        return []
    query = select(Volunteer).order_by(Volunteer.id)
    if authority_id is not None:
        query = query.where(Volunteer.authority_id == authority_id)
    # Phone numbers are stored as typed: compared here, over one authority's few volunteers.
    return [v for v in session.scalars(query)
            if v.email.lower() in emails or (phone_key(v.phone) or "-") in phones]


def volunteer_export(session: Session, volunteer: Volunteer) -> dict[str, Any]:
    """What is stored about a volunteer: who they are, their teams and their calls."""
    teams = list(session.scalars(
        select(BackupTeam.name).join(BackupTeamMember, BackupTeamMember.team_id == BackupTeam.id)
        .where(BackupTeamMember.volunteer_id == volunteer.id).order_by(BackupTeam.name)))
    calls = session.execute(
        select(BackupCall, BackupActivation.started_at)
        .join(BackupActivation, BackupActivation.id == BackupCall.activation_id)
        .where(BackupCall.volunteer_id == volunteer.id).order_by(BackupCall.id))
    return {
        "id": volunteer.id, "name": volunteer.name, "email": volunteer.email,
        "phone": volunteer.phone, "skills": volunteer.skills,
        "availability": volunteer.availability, "active": volunteer.active,
        "created_at": volunteer.created_at, "teams": teams,
        "calls": [{"activation_started_at": started, "status": c.status,
                   "notified_at": c.notified_at, "answered_at": c.answered_at,
                   "started_at": c.started_at, "ended_at": c.ended_at,
                   "declared_minutes": c.declared_minutes, "error": c.error}
                  for c, started in calls],
    }


def anonymise_volunteer(session: Session, volunteer: Volunteer, mask: re.Pattern[str]) -> None:
    """Erase who the volunteer is, keep their hours and department; ``mask`` takes their
    address out of the errors the mail server gave for their calls."""
    for call in session.scalars(select(BackupCall).where(
            BackupCall.volunteer_id == volunteer.id, BackupCall.error.is_not(None))):
        call.error = mask.sub("[ERASED]", call.error or "")
    # A new salt: the accept and decline links already sent stop working.
    session.execute(update(BackupCall).where(BackupCall.volunteer_id == volunteer.id)
                    .values(token_salt=secrets.token_hex(8)))
    session.execute(delete(BackupTeamMember).where(
        BackupTeamMember.volunteer_id == volunteer.id))
    volunteer.name = f"volunteer {volunteer.id} (erased)"
    volunteer.email = f"erased-{volunteer.id}@erased.invalid"
    volunteer.phone = None
    volunteer.skills, volunteer.availability = [], []
    volunteer.active = False
    session.flush()
