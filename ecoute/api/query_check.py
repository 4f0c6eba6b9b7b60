"""Unknown query parameters are refused, not ignored.

A misspelt or unsupported filter (``?sentimnet=negative``) used to be dropped silently, and
the caller read every item as if it were the filtered list. Every ``GET`` of ``/api/v1``
checks its query string against the parameters its route declares (its own and those of its
dependencies) and answers 400 naming the parameter and listing the accepted ones.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.dependencies.models import Dependant

from ecoute.errors import InvalidRequest

#: Where a route keeps its accepted names once read: on the route itself, as routes can be
#: neither hashed nor told apart by id() (reused once an app made for a test is gone).
_ACCEPTED = "_ecoute_accepted_query"


def _query_names(dependant: Dependant) -> Iterator[str]:
    for field in dependant.query_params:
        yield field.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def _accepted(route: object) -> frozenset[str] | None:
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant):
        return None
    accepted: frozenset[str] | None = getattr(route, _ACCEPTED, None)
    if accepted is None:
        accepted = frozenset(_query_names(dependant))
        setattr(route, _ACCEPTED, accepted)
    return accepted


def reject_unknown_query(request: Request) -> None:
    """A dependency of every ``/api/v1`` route (applied where the routers are included)."""
    if request.method not in ("GET", "HEAD"):
        return
    accepted = _accepted(request.scope.get("route"))
    if accepted is None:
        return
    unknown = sorted({name for name in request.query_params if name not in accepted})
    if not unknown:
        return
    named = ", ".join(repr(name) for name in unknown)
    hint = (f"accepted query parameters: {', '.join(sorted(accepted))}" if accepted
            else "this endpoint takes no query parameters")
    raise InvalidRequest(f"unknown query parameter{'s' if len(unknown) > 1 else ''} {named} "
                         f"for {request.url.path}", hint=f"{hint}; check the spelling")
