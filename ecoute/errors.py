"""The one exception tree of ecoute.

Library errors (httpx, SQLAlchemy, feedparser, transformers, ...) are translated at the
boundary with ``raise SomeEcouteError(...) from exc`` so that callers, the API and the CLI only
ever deal with this tree::

    EcouteError                      every error ecoute raises on purpose
    ├── ConfigError                  a setting, a file or an option is wrong
    │   ├── UnknownCollector         a source kind no collector is registered for
    │   ├── InvalidOptions           a source's options do not validate
    │   ├── InvalidSchedule          a source's schedule string cannot be read
    │   └── PortInUse                the address to serve on is taken by another program
    ├── NotFound                     something named does not exist
    │   ├── AuthorityNotFound
    │   ├── SourceNotFound
    │   ├── ItemNotFound
    │   ├── QuarantineNotFound
    │   ├── UserNotFound
    │   ├── AlertNotFound
    │   ├── DepartmentNotFound
    │   ├── SiteNotFound
    │   ├── RoutingRuleNotFound
    │   ├── FollowupNotFound         an item that calls for no follow-up (or none opened yet)
    │   ├── VolunteerNotFound
    │   ├── BackupTeamNotFound
    │   └── BackupCallNotFound       a volunteer's call, or an accept/decline link that is not valid
    ├── Conflict                     the request clashes with what is stored
    │   ├── SourceExists
    │   ├── UserExists
    │   ├── SourceRemoved            a source removed with its items kept cannot change
    │   ├── NotRetryable             a quarantined entry its collector cannot read again alone
    │   └── InvalidTransition        a follow-up cannot go from its status to the one asked
    ├── InvalidRequest               a query parameter or body the API cannot use
    │   └── PayloadTooLarge          a request body or upload over its size limit
    ├── Unauthorized                 no API key or session, an unknown or revoked one, a wrong password
    ├── Forbidden                    the key's or user's role or authority does not allow this
    ├── TooManyAttempts              too many failed sign-ins: refused until ``retry_at``
    ├── CollectError                 a whole source could not be read
    │   ├── FetchError               network or HTTP failure
    │   │   ├── BlockedURL           refused by the SSRF guard
    │   │   ├── ApiError             an API answered with an error document (code, message)
    │   │   └── RobotsDisallowed     a crawled page the site's robots.txt forbids
    │   ├── ResponseTooLarge         body over the size limit
    │   ├── ParseError               the payload is not what the collector reads
    │   └── RunInterrupted           stopped by its time limit, a shutdown or a lost lease
    ├── MailError                    the mail server refused a digest or cannot be reached
    ├── StoreError                   the database is unreachable or not migrated
    │   └── SchemaOutOfDate
    └── ModelError                   the classifier model cannot be found or loaded
        └── ModelChecksumMismatch

Every error carries a message saying what went wrong and, where useful, a ``hint`` saying what
to do; ``http_status`` is the status the API answers with.
"""

from __future__ import annotations

from datetime import datetime


class EcouteError(Exception):
    """Base of every error ecoute raises on purpose."""

    http_status: int = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    @property
    def name(self) -> str:
        return type(self).__name__

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(EcouteError):
    http_status = 422


class UnknownCollector(ConfigError):
    pass


class InvalidOptions(ConfigError):
    pass


class InvalidSchedule(ConfigError):
    pass


class PortInUse(ConfigError):
    pass


class NotFound(EcouteError):
    http_status = 404


class AuthorityNotFound(NotFound):
    pass


class SourceNotFound(NotFound):
    pass


class ItemNotFound(NotFound):
    pass


class QuarantineNotFound(NotFound):
    pass


class UserNotFound(NotFound):
    pass


class AlertNotFound(NotFound):
    pass


class DepartmentNotFound(NotFound):
    pass


class SiteNotFound(NotFound):
    pass


class RoutingRuleNotFound(NotFound):
    pass


class FollowupNotFound(NotFound):
    pass


class VolunteerNotFound(NotFound):
    pass


class BackupTeamNotFound(NotFound):
    pass


class BackupCallNotFound(NotFound):
    pass


class Conflict(EcouteError):
    http_status = 409


class SourceExists(Conflict):
    pass


class UserExists(Conflict):
    pass


class SourceRemoved(Conflict):
    pass


class NotRetryable(Conflict):
    pass


class InvalidTransition(Conflict):
    pass


class InvalidRequest(EcouteError):
    http_status = 400


class PayloadTooLarge(InvalidRequest):
    http_status = 413


class Unauthorized(EcouteError):
    http_status = 401


class Forbidden(EcouteError):
    http_status = 403


class TooManyAttempts(EcouteError):
    """Too many failed sign-ins for a username or from an address; ``retry_at`` (UTC) says
    when the next attempt will be heard."""

    http_status = 429

    def __init__(self, message: str, *, retry_at: datetime, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_at = retry_at


class CollectError(EcouteError):
    http_status = 502


class FetchError(CollectError):
    """``status`` and the start of ``body`` are kept when a server answered with an error, so
    that a collector can report the server's own explanation (an Open311 ``<errors>``)."""

    def __init__(
        self, message: str, *, hint: str | None = None, status: int | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.body = body


class BlockedURL(FetchError):
    http_status = 422


class ApiError(FetchError):
    """An API answered with an error document; the message carries its code and text."""


class RobotsDisallowed(FetchError):
    http_status = 422


class ResponseTooLarge(CollectError):
    pass


class ParseError(CollectError):
    http_status = 422


class RunInterrupted(CollectError):
    """A run stopped before its end. A shutdown or a lease taken over is not the source's
    fault (``source_fault=False``): it neither counts towards back-off nor flags the source."""

    def __init__(self, message: str, *, hint: str | None = None, source_fault: bool = True) -> None:
        super().__init__(message, hint=hint)
        self.source_fault = source_fault


class MailError(EcouteError):
    """``permanent``: the server refused for good (5xx, bad credentials, no TLS) and sending
    the same message again would fail the same way; otherwise it may work later."""

    http_status = 502

    def __init__(self, message: str, *, hint: str | None = None, permanent: bool) -> None:
        super().__init__(message, hint=hint)
        self.permanent = permanent


class StoreError(EcouteError):
    http_status = 503


class SchemaOutOfDate(StoreError):
    pass


class ModelError(EcouteError):
    http_status = 503


class ModelChecksumMismatch(ModelError):
    pass
