"""Repository functions for authorities, departments and sites (one place looks sites and
departments up by name: :class:`Places`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ecoute.errors import AuthorityNotFound
from ecoute.store.models import Authority, Department, Item, Site


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


class Places:
    """The ids of one authority's sites and departments by name, for the length of a run.

    A collection run names the same few places thousands of times: each name is looked up
    once per run (creating it where ``create``; a dry run creates nothing). A place created
    in a transaction is remembered by the run only once that transaction commits, so a
    batch rolled back and written again never refers to a place it did not keep.
    """

    def __init__(self, authority_id: int, *, create: bool = True) -> None:
        self.authority_id = authority_id
        self.create = create
        self._known: dict[tuple[str, str], int | None] = {}
        self._created_key = ("places created", id(self))

    def site_id(self, session: Session, name: str | None) -> int | None:
        """The id of the site ``name`` (None for no name, or one a dry run has not met)."""
        return self._id(session, Site, name) if name else None

    def department_id(self, session: Session, name: str | None) -> int | None:
        return self._id(session, Department, name) if name else None

    def _id(self, session: Session, model: type[Site] | type[Department], name: str
            ) -> int | None:
        key = (model.__tablename__, name)
        if key in self._known:
            return self._known[key]
        created: dict[tuple[str, str], int] = session.info.setdefault(self._created_key, {})
        if key in created:
            return created[key]
        found = session.scalar(select(model.id).where(model.authority_id == self.authority_id,
                                                      model.name == name))
        if found is not None or not self.create:
            self._known[key] = found
            return found
        place = model(authority_id=self.authority_id, name=name)
        session.add(place)
        session.flush()
        created[key] = place.id
        if not event.contains(session, "after_commit", self._committed):
            event.listen(session, "after_commit", self._committed)
        return place.id

    def _committed(self, session: Session) -> None:
        self._known.update(session.info.pop(self._created_key, {}))


def list_departments(session: Session, authority_id: int) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.authority_id == authority_id)
                                .order_by(Department.name)))


def list_sites(session: Session, authority_id: int) -> list[Site]:
    return list(session.scalars(select(Site).where(Site.authority_id == authority_id)
                                .order_by(Site.name)))


def place_names(session: Session, items: Iterable[Item]) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the departments and of the sites of ``items``, by id."""
    listed = list(items)
    names: list[dict[int, str]] = []
    for model, ids in ((Department, {i.department_id for i in listed}),
                       (Site, {i.site_id for i in listed})):
        wanted = [i for i in ids if i is not None]
        names.append({id_: name for id_, name in session.execute(
            select(model.id, model.name).where(model.id.in_(wanted)))} if wanted else {})
    return names[0], names[1]
