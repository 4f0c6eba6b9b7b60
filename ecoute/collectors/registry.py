"""Which collector reads which source kind.

Built-in kinds are listed in one tuple; other packages add kinds through the entry-point group
``ecoute.collectors`` (``mykind = "mypackage.module:MyCollector"``).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from ecoute.collectors.base import Collector, CollectorOptions
from ecoute.errors import InvalidOptions, UnknownCollector

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ecoute.collectors"

BUILTIN: tuple[str, ...] = (
    "ecoute.collectors.rss:RssCollector",
    "ecoute.collectors.html_reviews:HtmlReviewsCollector",
    "ecoute.collectors.open311:Open311Collector",
    "ecoute.collectors.mastodon:MastodonCollector",
    "ecoute.collectors.documents:DocumentsCollector",
    "ecoute.collectors.mailbox:MailboxCollector",
    "ecoute.collectors.push:PushCollector",
    "ecoute.collectors.survey_file:SurveyFileCollector",
    "ecoute.collectors.complaint_log:ComplaintLogCollector",
    "ecoute.collectors.audit_grid:AuditGridCollector",
    "ecoute.collectors.call_log:CallLogCollector",
)


def _load(ref: str) -> type[Collector]:
    module, _, attr = ref.partition(":")
    cls = getattr(import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, Collector)):
        raise TypeError(f"{ref} is not a Collector subclass")
    return cls


@lru_cache(maxsize=1)
def collectors() -> dict[str, type[Collector]]:
    """Every registered collector by kind (built-ins win over plugins of the same kind)."""
    found: dict[str, type[Collector]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not take the built-ins down
            log.error("collector plugin %s could not be loaded: %s", ep.value, exc)
            continue
        found[cls.kind] = cls
    for ref in BUILTIN:
        cls = _load(ref)
        found[cls.kind] = cls
    return dict(sorted(found.items()))


def get_collector(kind: str) -> type[Collector]:
    try:
        return collectors()[kind]
    except KeyError:
        known = ", ".join(collectors())
        raise UnknownCollector(
            f"no collector for source kind {kind!r}", hint=f"known kinds: {known}"
        ) from None


def validate_options(kind: str, options: dict[str, Any]) -> CollectorOptions:
    """The typed options of a ``kind`` source, or InvalidOptions naming the field."""
    cls = get_collector(kind)
    try:
        return cls.Options.model_validate(options)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidOptions(
            f"invalid options for a {kind} source: {problems}",
            hint=f"`ecoute collectors` lists the options of {kind}",
        ) from exc
