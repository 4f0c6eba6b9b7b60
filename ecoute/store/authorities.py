"""Repository functions for authorities, departments and sites."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.errors import AuthorityNotFound
from ecoute.store.models import Authority, Department, Site


def get_authority(session: Session, slug: str) -> Authority:
    authority = session.scalar(select(Authority).where(Authority.slug == slug))
    if authority is None:
        raise AuthorityNotFound(
            f"no authority {slug!r}", hint="create it with `ecoute sources add` or `ecoute demo`"
        )
    return authority


def ensure_authority(
    session: Session, slug: str, *, name: str | None = None, timezone: str = "Europe/Paris",
    locale: str = "fr",
) -> Authority:
    authority = session.scalar(select(Authority).where(Authority.slug == slug))
    if authority is None:
        authority = Authority(slug=slug, name=name or slug, timezone=timezone, locale=locale)
        session.add(authority)
        session.flush()
    return authority


def ensure_site(session: Session, authority_id: int, name: str) -> Site:
    site = session.scalar(
        select(Site).where(Site.authority_id == authority_id, Site.name == name)
    )
    if site is None:
        site = Site(authority_id=authority_id, name=name)
        session.add(site)
        session.flush()
    return site


def ensure_department(session: Session, authority_id: int, name: str) -> Department:
    department = session.scalar(
        select(Department).where(Department.authority_id == authority_id, Department.name == name)
    )
    if department is None:
        department = Department(authority_id=authority_id, name=name)
        session.add(department)
        session.flush()
    return department
