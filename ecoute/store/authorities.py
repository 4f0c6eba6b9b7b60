"""Repository functions for authorities, departments and sites."""

from __future__ import annotations

from typing import Any

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


def _cached(session: Session, key: tuple[str, int, str]) -> Any:
    """Sites and departments already looked up in this session: a collection batch names the
    same few hundreds of times, and each lookup would otherwise flush the pending items."""
    return session.info.setdefault("ensured", {}).get(key)


def ensure_site(session: Session, authority_id: int, name: str) -> Site:
    if (cached := _cached(session, ("site", authority_id, name))) is not None:
        return cached  # type: ignore[no-any-return]
    site = session.scalar(
        select(Site).where(Site.authority_id == authority_id, Site.name == name)
    )
    if site is None:
        site = Site(authority_id=authority_id, name=name)
        session.add(site)
        session.flush()
    session.info["ensured"][("site", authority_id, name)] = site
    return site


def ensure_department(session: Session, authority_id: int, name: str) -> Department:
    if (cached := _cached(session, ("department", authority_id, name))) is not None:
        return cached  # type: ignore[no-any-return]
    department = session.scalar(
        select(Department).where(Department.authority_id == authority_id, Department.name == name)
    )
    if department is None:
        department = Department(authority_id=authority_id, name=name)
        session.add(department)
        session.flush()
    session.info["ensured"][("department", authority_id, name)] = department
    return department


def list_departments(session: Session, authority_id: int) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.authority_id == authority_id)
                                .order_by(Department.name)))


def list_sites(session: Session, authority_id: int) -> list[Site]:
    return list(session.scalars(select(Site).where(Site.authority_id == authority_id)
                                .order_by(Site.name)))
