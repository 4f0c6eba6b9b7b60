"""Response schemas of the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ecoute.domain import DETERMINANTS
from ecoute.errors import InvalidRequest

#: Largest id the databases store (64-bit signed); a larger one in a URL is refused up front.
MAX_ID = 2**63 - 1

#: The AFNOR determinants as an OpenAPI enum. Declared only: the endpoints check the value
#: themselves so that a refusal lists the known ones.
DETERMINANT_ENUM: dict[str, Any] = {"enum": list(DETERMINANTS)}

def known_determinant(value: str) -> str:
    if value not in DETERMINANTS:
        raise InvalidRequest(f"unknown determinant {value!r}",
                             hint=f"determinants: {', '.join(DETERMINANTS)}")
    return value


class ErrorOut(BaseModel):
    """Every error answer of the API."""

    error: str = Field(description="Name of the error, e.g. `ItemNotFound`, `InvalidRequest`")
    detail: str = Field(description="What went wrong")
    hint: str | None = Field(None, description="What to do about it, when known")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the error answers a route may give."""
    meaning = {400: "The request cannot be used", 401: "No API key, or an unknown one",
               403: "The key's role or authority does not allow this",
               404: "Not found (or another authority's)",
               409: "The entry cannot be done now (e.g. already resolved)", 413: "The body is too large",
               422: "A parameter or the body does not validate",
               503: "The database is busy or unreachable; retry later"}
    return {status: {"model": ErrorOut, "description": meaning[status]} for status in statuses}


#: The answers every authenticated route may give.
COMMON_ERRORS = error_responses(400, 401, 403, 422, 503)


class Health(BaseModel):
    status: str
    version: str
    database: str
    schema_revision: str | None
    digests_failed: int = Field(
        0, description="Digest subscriptions whose latest e-mail could not be sent (refused "
        "by the mail server or out of attempts).")


class Figure(BaseModel):
    determinant: str
    positive: int
    negative: int
    neutral: int
    n: int = Field(description="positive + negative mentions")
    share_positive: float | None = Field(description="positive / n")
    ci_low: float | None = Field(description="Wilson 95 % interval, lower bound")
    ci_high: float | None = Field(description="Wilson 95 % interval, upper bound")
    net_score: float | None = Field(description="share positive − share negative, all mentions")
    sufficient: bool = Field(description="n reaches the minimum sample size")


class Tag(BaseModel):
    determinant: str
    polarity: str
    confidence: float
    provenance: str
    span: tuple[int, int] | None


class ItemOut(BaseModel):
    id: int
    source_id: int
    external_id: str
    channel: str
    url: str | None
    title: str | None
    text: str
    lang: str | None
    published_at: datetime | None
    collected_at: datetime
    rating_value: float | None
    rating_scale: str | None
    rating_norm: float | None
    department_id: int | None = Field(description="`GET /api/v1/departments` lists them")
    department: str | None = Field(description="Name of the department")
    site_id: int | None = Field(description="`GET /api/v1/sites` lists them")
    site: str | None = Field(description="Name of the site")
    sentiment: str | None
    sentiment_scores: dict[str, float] | None
    sentiment_provenance: Literal["model", "human"] | None = Field(
        default=None, description="`human` when an officer corrected the sentiment (the "
        "scores stay the model's).")
    determinants: list[Tag]
    extra: dict[str, Any]


class SiteOut(BaseModel):
    id: int
    name: str
    address: str | None


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None


class SourceFigureOut(BaseModel):
    """What a source publishes about itself (a review page's average rating), as of
    ``observed_at``; never counted in the satisfaction figures."""

    subject: str | None = Field(description="What is rated (schema.org itemReviewed).")
    url: str | None
    rating_value: float
    worst_rating: float
    best_rating: float
    rating_count: int | None
    review_count: int | None
    observed_at: datetime = Field(description="When these figures were first read.")
    last_seen_at: datetime = Field(description="The last run that read the same figures.")


class SourceOut(BaseModel):
    id: int
    name: str
    kind: str
    enabled: bool
    options: dict[str, Any]
    schedule: str | None
    items: int
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    health: str = Field(description="ok, never run, failed, failing, backing off, disabled, "
                        "or quarantine (its last run left entries in quarantine)")
    flagged: bool = Field(False, description="Failed `source_failure_threshold` times in a "
                          "row: retried with back-off instead of at each scheduled time")
    backing_off_until: datetime | None = Field(
        None, description="When a flagged source is tried again (UTC)")
    quarantined: int = Field(0, description="Entries of the last run waiting in quarantine")
    figures: list[SourceFigureOut] = Field(
        default_factory=list, description="The source's own current figures, one per subject.")


class SourcePatch(BaseModel):
    """What to change; absent fields stay as they are."""

    options: dict[str, Any] | None = Field(
        None, description="Options to change; a null value puts one back to its default")
    schedule: str | None = Field(None, description="e.g. `every 30 minutes`")
    enabled: bool | None = None


class SourceRemovedOut(BaseModel):
    id: int
    items_deleted: int
    items_kept: bool


class QuarantineOut(BaseModel):
    """A quarantine entry; its payload (which may hold personal data) is not sent."""

    id: int
    source_id: int
    source: str
    run_id: int | None
    position: str | None
    error_class: str
    message: str
    created_at: datetime
    resolved_at: datetime | None


class QuarantinePage(BaseModel):
    entries: list[QuarantineOut]
    total: int


class RetryOut(BaseModel):
    entry_id: int
    resolved: bool
    new: int
    duplicate: int
    updated: int
    reason: str | None = Field(description="Why the entry is still in quarantine")


class RunOut(BaseModel):
    source_id: int
    source: str
    run_id: int | None
    status: str = Field(description="success, partial (some entries quarantined) or failed")
    fetched: int
    new: int
    duplicate: int
    updated: int
    quarantined: int
    error: str | None
    warnings: list[str] = Field(default_factory=list, description=(
        "What a run that did not fail left out or found empty (pages not read, a file "
        "without free text)"))


class RecordProblemOut(BaseModel):
    index: int = Field(description="0-based position of the record in the body (NDJSON: "
                       "among its non-empty lines)")
    reason: str


class IngestOut(BaseModel):
    received: int
    run: RunOut
    rejected: list[RecordProblemOut] = Field(
        description="Records that went to quarantine instead of the store, and why"
    )


class SentimentCorrection(BaseModel):
    sentiment: Literal["positive", "negative", "neutral"] | None = Field(
        description="The item's sentiment as the officer reads it; null: back to the model's."
    )


class Correction(BaseModel):
    polarity: Literal["positive", "negative", "neutral"] | None = Field(
        description="What the item says about the determinant; null: it does not talk about it."
    )


class DigestSubscriptionIn(BaseModel):
    """A recipient of the digest e-mail."""

    email: str = Field(max_length=320, description="Address of the recipient.")
    language: Literal["fr", "en"] | None = Field(
        None, description="Language of the e-mail; empty: the authority's.")
    frequency: Literal["weekly", "monthly"] = "weekly"
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                     "sunday"] = Field(
        "monday", description="Day it is sent (a monthly digest: the first such day of the "
        "month), in the authority's time zone.")
    hour: int = Field(8, ge=0, le=23, description="Hour it is sent, authority's time zone.")
    department: str | None = Field(None, max_length=200,
                                   description="Only this department's feedback (its name).")
    site: str | None = Field(None, max_length=200,
                             description="Only this site's feedback (its name).")


class DigestSubscriptionOut(BaseModel):
    id: int
    email: str
    language: str
    frequency: str
    weekday: str
    hour: int
    department_id: int | None
    site_id: int | None
    created_at: datetime
    unsubscribed_at: datetime | None
    last_period: str | None = Field(description="Period of the latest digest, e.g. 2026-W47.")
    last_status: str | None = Field(
        description="claimed, sending, sent, retry (deferred by the mail server) or failed.")
    last_error: str | None = Field(description="Why the latest digest was not sent, if so.")


class DurationsOut(BaseModel):
    count: int = Field(description="Cases that got there (answered, or closed)")
    median_days: float | None = Field(description="Median, in calendar days")
    p90_days: float | None = Field(description="90th percentile, in calendar days")
    median_working_days: float | None = Field(
        description="Median, in working days after the day of receipt")
    p90_working_days: float | None = Field(description="90th percentile, in working days")


class ResponseFiguresOut(BaseModel):
    id: int | None = Field(description="The department or site; null for all cases")
    name: str
    received: int = Field(description="Cases received in the window")
    to_answer: DurationsOut
    to_close: DurationsOut
    within_promise: int = Field(description="Answered within the promise")
    judged: int = Field(description="Answered, or unanswered past the promise")
    share_within_promise: float | None = Field(description="within_promise / judged")
    ci_low: float | None = Field(description="Wilson 95 % interval, lower bound")
    ci_high: float | None = Field(description="Wilson 95 % interval, upper bound")
    sufficient: bool = Field(description="judged reaches the minimum sample size")
    unanswered: int
    overdue: int = Field(description="Unanswered past the promise, as of today")
    open: int = Field(description="Not closed")


class ResponseTimes(BaseModel):
    authority: str
    window: str
    start: date
    end: date
    promise_working_days: int
    public_holidays: str
    min_sample_size: int
    overall: ResponseFiguresOut
    departments: list[ResponseFiguresOut]
    sites: list[ResponseFiguresOut]


class AlertOut(BaseModel):
    """Something the assessment found: raised once, refreshed while its condition lasts."""

    id: int
    kind: str = Field(description="determinant_drop, volume_spike, source_silent, "
                      "phone_overload or emerging_topic")
    key: str = Field(description="The condition it is about; one active alert per key")
    title: str = Field(description="What happened, in one sentence")
    figures: dict[str, Any] = Field(description="The figures that raised it (as last seen)")
    raised_at: datetime
    last_seen_at: datetime = Field(description="The last evaluation that found it")
    resolved_at: datetime | None
    resolved_by: str | None = Field(description="Who resolved it; null when its condition "
                                    "cleared by itself")
    active: bool
