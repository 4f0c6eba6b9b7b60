"""Typed SQLAlchemy 2 models of the store, one module per aggregate.

The schema itself is created and changed only by the Alembic migrations in
``ecoute/store/migrations``; these classes describe it for queries. Importing this package
imports every module, so that every table is registered on ``Base.metadata`` (which Alembic's
environment and the model-against-migrations test compare); the names are re-exported here so
that code imports them from ``ecoute.store.models`` whatever module holds them.
"""

from ecoute.store.models.access import ApiKey, Role, SigninFailure, User, WebSession
from ecoute.store.models.alerts import Alert, AlertKind
from ecoute.store.models.base import NAMING, Base, UTCDateTime, utcnow
from ecoute.store.models.digests import (
    DigestFrequency,
    DigestLog,
    DigestStatus,
    DigestSubscription,
)
from ecoute.store.models.followups import Followup, FollowupEvent, FollowupStatus
from ecoute.store.models.items import NO_DATE, Item, ItemCount, PurgedItem, sort_at_of
from ecoute.store.models.jobs import SchedulerJob
from ecoute.store.models.phone import CallStat, PhoneOverload, PhoneQueueState
from ecoute.store.models.places import Authority, Department, Site
from ecoute.store.models.rollups import DailyRollup, SatisfactionRollup
from ecoute.store.models.routing import ItemRouting, RoutingOrigin, RoutingRule
from ecoute.store.models.sources import CollectionRun, Quarantine, RunStatus, Source, SourceFigure
from ecoute.store.models.taggings import AuthorityHead, DeterminantTag, ItemEmbedding, Tagging
from ecoute.store.models.volunteers import (
    BackupActivation,
    BackupCall,
    BackupTeam,
    BackupTeamMember,
    CallStatus,
    Volunteer,
)

__all__ = [
    "NAMING", "NO_DATE", "Alert", "AlertKind", "ApiKey", "Authority", "AuthorityHead",
    "BackupActivation", "BackupCall", "BackupTeam", "BackupTeamMember", "Base", "CallStat",
    "CallStatus", "CollectionRun", "DailyRollup", "Department", "DeterminantTag",
    "DigestFrequency", "DigestLog", "DigestStatus", "DigestSubscription", "Followup",
    "FollowupEvent", "FollowupStatus", "Item", "ItemCount", "ItemEmbedding", "ItemRouting",
    "PhoneOverload", "PhoneQueueState", "PurgedItem", "Quarantine", "Role", "RoutingOrigin",
    "RoutingRule", "RunStatus", "SatisfactionRollup", "SchedulerJob", "SigninFailure", "Site",
    "Source", "SourceFigure", "Tagging", "UTCDateTime", "User", "Volunteer", "WebSession",
    "sort_at_of", "utcnow",
]
