"""All settings of ecoute, in one documented class.

Values come, highest priority first, from keyword arguments, ``ECOUTE_*`` environment
variables, a ``.env`` file, and the TOML file named by ``ECOUTE_CONFIG_FILE`` (default
``ecoute.toml`` in the working directory, when it exists). Every field is listed in
``docs/configuration.md``; a test fails when one is missing there.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ecoute.config import setting_types as checks
from ecoute.config.setting_types import (
    DEV_PSEUDONYM_KEY,
    default_cache_dir,
    default_data_dir,
    default_database_url,
    hide_password,
)
from ecoute.domain import Channel
from ecoute.errors import ConfigError


class Settings(BaseSettings):
    """Settings of an ecoute installation (environment prefix ``ECOUTE_``)."""

    model_config = SettingsConfigDict(
        env_prefix="ECOUTE_",
        env_file=".env",
        extra="ignore",
        validate_default=True,
    )

    env: Literal["dev", "prod"] = Field(
        "dev",
        description="`dev` (the default) accepts convenient defaults, and lets anonymous "
        "requests read every authority's data through the API; `prod` refuses unsafe ones "
        "(the development or a short pseudonym key) and needs an API key to read.",
    )
    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL of the store: `sqlite:///path/ecoute.db` (default, in the "
        "user's data directory) or `postgresql+psycopg://user@host/db`.",
    )
    sqlite_busy_timeout_ms: int = Field(
        5000, ge=0, description="How long SQLite waits for a lock held by another process."
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="Where converted models and other rebuildable files are kept.",
    )
    model_dir: Path | None = Field(
        None,
        description="A transformers model folder to classify with instead of the default "
        "bundled encoder (a fine-tuned sentiment model, for instance).",
    )
    model_labels: str | None = Field(
        None,
        description="Comma-separated mapping of the model's output labels to "
        "negative/neutral/positive, in output order, e.g. `negative,positive` or "
        "`1 star,2 stars,3 stars,4 stars,5 stars` mapped by position (2, 3 or 5 classes). "
        "Empty: read from the model's config.",
    )
    classify_batch_size: int = Field(32, ge=1, description="Texts per forward pass.")
    classify_chunk_size: int = Field(
        256, ge=1,
        description="Items classified per transaction; the model sorts each chunk by length "
        "before batching, so larger chunks waste less padding (256 is about 2.5x faster than 32 "
        "on mixed-length feedback) but a stopping worker finishes its chunk first.",
    )
    classify_max_length: int = Field(
        256, ge=8, description="Tokens kept per text; longer texts are truncated."
    )
    torch_threads: int = Field(
        0, ge=0, description="CPU threads for the model; 0 lets torch choose."
    )
    determinants_file: Path | None = Field(
        None,
        description="A determinants lexicon (TOML) replacing the shipped "
        "`ecoute/config/determinants.toml`.",
    )
    determinant_examples_file: Path | None = Field(
        None,
        description="Example sentences of each determinant (TOML) replacing the shipped "
        "`ecoute/config/determinant_examples.toml`; the default classifier compares every "
        "sentence with them.",
    )
    min_corrections: int = Field(
        8,
        ge=2,
        description="Human corrections a determinant (or the sentiment) needs before `ecoute "
        "train --from-corrections` refits it; below that the shipped head's weights are kept.",
    )
    min_sample_size: int = Field(
        30,
        ge=1,
        description="Mentions needed before a satisfaction figure is called sufficient.",
    )
    response_promise_working_days: int = Field(
        15, ge=1, le=365,
        description="The authority's promise: working days after an item was received within "
        "which a service request or complaint is answered; a follow-up's due date (kept on "
        "each follow-up when it is opened, so changing it moves only later ones). The "
        "response-time figures count the share answered in time and the overdue ones.",
    )
    public_holidays: Literal["FR", "FR-alsace-moselle", "none"] = Field(
        "FR",
        description="Public holidays that are not working days: `FR` (French public holidays, "
        "computed for every year from the date of Easter), `FR-alsace-moselle` (adds Good "
        "Friday and 26 December) or `none` (weekends only).",
    )
    extra_holidays: list[date] = Field(
        default_factory=list,
        description="Other days the offices are closed (local holiday, bridge days), as a "
        "JSON list: `ECOUTE_EXTRA_HOLIDAYS='[\"2026-05-15\"]'`.",
    )
    alert_window_days: int = Field(
        7, ge=1, le=90,
        description="Days of the current window of alerts: a determinant's drop is measured "
        "over it, emerging topics are the clusters of negative items new in it.",
    )
    alert_baseline_days: int = Field(
        28, ge=7, le=365,
        description="Days before the current window that alerts compare it with (a "
        "determinant's former share, the topics already known).",
    )
    alert_min_drop: float = Field(
        0.10, gt=0, lt=1,
        description="Smallest fall of a determinant's positive share (0.10: ten points) that "
        "raises an alert, when it is also significant (two-proportion test, p < 0.05) and "
        "both windows reach `min_sample_size` mentions.",
    )
    alert_spike_factor: float = Field(
        2.0, gt=1,
        description="A day with this many times the items of an average day of the 14 before "
        "it (and improbably many for that average: Poisson p < 0.01) raises a volume alert.",
    )
    phone_abandon_rate: float = Field(
        0.20, gt=0, le=1,
        description="A phone queue is overloaded when the share of abandoned calls over "
        "`phone_window_minutes` reaches this (with at least `phone_min_offered` calls offered). "
        "A back-up team may set its own value for its queue.",
    )
    phone_avg_wait_seconds: float = Field(
        120.0, gt=0,
        description="A phone queue is overloaded when callers waited this many seconds on "
        "average over `phone_window_minutes`.",
    )
    phone_calls_waiting: int = Field(
        8, ge=1,
        description="A phone queue is overloaded when this many calls wait at the end of an "
        "interval (when the phone system pushes it).",
    )
    phone_service_level: float = Field(
        0.60, gt=0, le=1,
        description="A phone queue is overloaded when the share of calls answered within the "
        "service-level time falls below this over `phone_window_minutes`.",
    )
    phone_window_minutes: int = Field(
        30, ge=1, le=24 * 60,
        description="The sliding interval the overload figures are computed over, ending at "
        "each interval of call statistics.",
    )
    phone_min_offered: int = Field(
        10, ge=1,
        description="Calls offered over `phone_window_minutes` below which the abandon rate "
        "and the service level are not judged (a few calls say nothing of an overload).",
    )
    phone_hysteresis_margin: float = Field(
        0.20, ge=0, lt=1,
        description="An overloaded queue is calm again only when each figure is this share on "
        "the right side of its threshold (0.20: an abandon rate below 16 % for a threshold of "
        "20 %), so that a figure hovering around its threshold does not start and stop "
        "overloads at every interval.",
    )
    phone_recovery_minutes: int = Field(
        30, ge=0,
        description="How long a queue must stay calm before its overload ends and its back-up "
        "team's activation closes.",
    )
    phone_check_minutes: int = Field(
        5, ge=1, le=24 * 60,
        description="How often the scheduler runs the overload detection on the call "
        "statistics collected from files and sends the volunteers' calls not sent yet (pushed "
        "figures are judged as they arrive).",
    )
    backup_webhook_url: str | None = Field(
        None,
        description="Web address the volunteers' calls are posted to as JSON instead of "
        "e-mailed (an SMS gateway, a chat tool): see \"Phone back-up team\" in "
        "docs/operations.md. Empty: by e-mail.",
    )
    backup_webhook_secret: str | None = Field(
        None,
        description="Secret key of the HMAC-SHA256 signature (`X-Ecoute-Signature`) of each "
        "call posted to `backup_webhook_url`; the receiver checks it. Required with the URL.",
    )
    backup_webhook_timeout: float = Field(
        10.0, gt=0, description="Seconds to wait for the webhook of the volunteers' calls.")
    backup_webhook_retries: int = Field(
        2, ge=0,
        description="Immediate retries of a call the webhook did not take (no answer, 5xx, "
        "408, 429), `backup_webhook_backoff_seconds` apart and doubling; after them the call "
        "is tried again at the next check while the overload lasts.",
    )
    backup_webhook_backoff_seconds: float = Field(
        1.0, ge=0, description="First wait before retrying a call the webhook did not take.")
    fte_hours_per_month: float = Field(
        151.67, gt=0,
        description="The authority's full-time hours in a month (151.67 for 35 hours a week): "
        "the volunteers' hours are reported as full-time equivalents of it.",
    )
    alert_topic_similarity: float = Field(
        0.30, gt=0, lt=1,
        description="How similar two negative items must be to fall in one emerging topic "
        "(the mean of the cosine of their centred embeddings and of their words' TF-IDF "
        "vectors); higher makes fewer, tighter topics.",
    )
    alert_topic_min_items: int = Field(
        3, ge=2,
        description="Negative items a cluster needs in the current window to be an emerging "
        "topic.",
    )
    alerts_every_seconds: float = Field(
        300.0, ge=0,
        description="Shortest time between two evaluations of an authority's alerts after "
        "classification batches (they are also evaluated every night).",
    )
    collect_batch_size: int = Field(
        200, ge=1, description="Items written per transaction by the collection runner."
    )
    text_max_chars: int = Field(
        100_000, ge=1000,
        description="Longest string stored for one field of an item (title, text, each string "
        "of `extra`) or of a quarantine entry. A longer one is cut and its original length is "
        "recorded in the item's `extra.truncated` (or in the quarantine entry's message).",
    )
    http_timeout: float = Field(
        20.0, gt=0, description="Seconds to wait for each read of a response (and to connect, "
        "unless `http_connect_timeout` is set)."
    )
    http_connect_timeout: float | None = Field(
        10.0, gt=0, description="Seconds to wait for a connection to a server."
    )
    http_retries: int = Field(
        3, ge=0, description="Retries of a request that timed out or got HTTP 429/5xx, with "
        "exponential backoff and jitter (Retry-After is honoured)."
    )
    http_backoff_seconds: float = Field(
        0.5, ge=0, description="First retry delay of a failed request; doubled at each retry "
        "(randomised, capped at 30 s)."
    )
    http_max_retry_wait: float = Field(
        120.0, ge=0, description="Longest Retry-After a run waits for; a server asking for "
        "more fails the run, which the next scheduled run retries."
    )
    http_max_redirects: int = Field(5, ge=0, description="Redirects followed per request.")
    http_host_interval: float = Field(
        1.0, ge=0, description="Minimum seconds between two requests to the same host, across "
        "all sources of the process (a robots.txt Crawl-delay can lengthen it)."
    )
    http_max_bytes: int = Field(
        50_000_000, ge=1024, description="Largest response body a collector downloads."
    )
    http_allow_private: bool = Field(
        False,
        description="Allow collectors to fetch loopback and private addresses (tests, demo, "
        "intranet sources). Off by default to refuse server-side request forgery.",
    )
    user_agent: str = Field(
        "ecoute/0.1 (+https://github.com/ecoute; public service feedback collector)",
        description="User-Agent header sent by collectors.",
    )
    pseudonym_key: str = Field(
        DEV_PSEUDONYM_KEY,
        description="Secret key of the HMAC that turns authors into pseudonyms. Required "
        "(and kept secret) when `env = prod`, at least 16 characters.",
    )
    redact_patterns: dict[str, str] = Field(
        default_factory=dict,
        description="Extra personal data to mask before storage, as placeholder name → RE2 "
        "pattern: `ECOUTE_REDACT_PATTERNS='{\"CLIENT\": \"CL-[0-9]{6}\"}'` replaces "
        "`CL-004211` by `[CLIENT]` (docs/privacy.md). Names are letters, digits and `_`.",
    )
    default_authority: str = Field(
        "demo", description="Slug of the authority used when a command names none."
    )
    api_anonymous_read: bool | None = Field(
        None,
        description="Whether the API's read endpoints (and `/metrics`) answer without an API "
        "key. Empty: yes when `env = dev` (demo, local use), no when `env = prod`. Writing "
        "always needs a key.",
    )
    web_session_hours: float = Field(
        12.0, gt=0, le=24 * 90,
        description="How long a dashboard sign-in lasts; then the person signs in again. The "
        "session cookie is HttpOnly, SameSite=Lax, and Secure unless `env = dev` (serve the "
        "dashboard over HTTPS in production).",
    )
    signin_max_failures: int = Field(
        5, ge=1, le=1000,
        description="Failed sign-ins for one username within `signin_window_minutes` after "
        "which that username is refused for `signin_lockout_minutes`; from the second "
        "failure on, each next attempt waits a little longer first (docs/security.md). A "
        "successful sign-in clears the count.",
    )
    signin_max_failures_per_address: int = Field(
        20, ge=1, le=100_000,
        description="The same limit for one client address, whatever username or API key it "
        "tries (the dashboard's forms and the API's keys). Higher than the per-username one "
        "because the staff of a town hall often share one public address.",
    )
    signin_window_minutes: float = Field(
        15.0, gt=0, le=7 * 24 * 60,
        description="How far back failed sign-ins are counted.",
    )
    signin_lockout_minutes: float = Field(
        15.0, gt=0, le=7 * 24 * 60,
        description="How long a username or an address is refused once it reached its "
        "limit, counted from its last failure.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where uploaded files and pushed items waiting to be stored are kept "
        "(default: `files` in the user's data directory).",
    )
    file_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders that file sources (paths, `file://` URLs, watched folders) may "
        "read, separated by `:` (or a TOML list). Empty: the working directory and ecoute's "
        "data directory (where the demo lives); `data_dir` is always allowed. Links are "
        "resolved first; `/proc`, `/sys`, `/dev` and anything but regular files are never read.",
    )
    ingest_max_bytes: int = Field(
        10_000_000, ge=1024, description="Largest body accepted by `POST /api/v1/ingest`."
    )
    upload_max_bytes: int = Field(
        200_000_000, ge=1024,
        description="Largest file accepted by `POST /api/v1/sources/{id}/upload`.",
    )
    json_max_depth: int = Field(
        64, ge=4, le=200,
        description="Deepest nesting of arrays/objects accepted in any JSON ecoute reads "
        "(pushed records and their `extra`, JSON files, API answers); a deeper record or "
        "file is quarantined with the reason.",
    )
    push_extra_max_bytes: int = Field(
        65_536, ge=1024,
        description="Largest `extra` of one pushed record (as JSON); a larger record is "
        "quarantined with the reason.",
    )
    import_max_rows: int = Field(
        1_000_000, ge=1,
        description="Most rows read from one CSV or XLSX file (blank rows count); the rows "
        "after it are quarantined with the reason, split larger files.",
    )
    xlsx_max_shared_strings_bytes: int = Field(
        50_000_000, ge=1024,
        description="Largest uncompressed table of shared strings in an XLSX workbook (it is "
        "read whole into memory, about 6 times its size); a larger workbook is quarantined "
        "with the reason (export CSV instead).",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`text` for people reading a terminal, `json` (one object per line) for a "
        "log collector.",
    )
    scheduler_sync_seconds: float = Field(
        30.0, gt=0,
        description="How often `ecoute run` re-reads the sources table, so that a source "
        "added, changed or disabled is (re)scheduled without a restart.",
    )
    scheduler_misfire_grace_seconds: int = Field(
        7 * 24 * 3600, ge=1,
        description="A scheduled collection missed while ecoute was stopped still runs (once) "
        "at restart if it is not older than this.",
    )
    worker_poll_seconds: float = Field(
        5.0, gt=0,
        description="How long an idle worker waits before looking again for due sources and "
        "unclassified items.",
    )
    collect_concurrency: int = Field(
        4, ge=1,
        description="Sources one process collects at the same time, so that a slow source "
        "does not hold the others back.",
    )
    collect_max_seconds: float = Field(
        1800.0, gt=0,
        description="Wall-time limit of one collection run, imports (`ecoute import`) and "
        "uploads included; a run over it stops after its current batch or row, keeps what it "
        "stored and fails with a timeout.",
    )
    source_lease_seconds: float = Field(
        120.0, ge=5,
        description="How long a worker's claim on a source lasts without renewal; the claim "
        "of a worker that died is taken over after this.",
    )
    source_failure_threshold: int = Field(
        3, ge=1,
        description="Consecutive failed runs after which a source is flagged as failing and "
        "retried with exponential back-off (`backoff_base_seconds` × 2^(failures − 1), at "
        "most `backoff_max_seconds`) instead of at each scheduled time.",
    )
    backoff_base_seconds: float = Field(
        60.0, gt=0,
        description="Back-off unit of a failing source: once flagged (see "
        "`source_failure_threshold`), it is retried after this × 2^(failures − 1) seconds.",
    )
    backoff_max_seconds: float = Field(
        6 * 3600.0, gt=0, description="Longest wait between retries of a failing source."
    )
    retention_days: int = Field(
        0, ge=0,
        description="Days an item (its text, title, author pseudonym, link and extra fields) is "
        "kept, counted from the earlier of its publication and its collection, for every source "
        "kind not in `retention_days_by_kind`; the daily purge then applies "
        "`retention_action`. 0 keeps items. The satisfaction figures stay, a purged item is "
        "not collected again, and an entry already past its period when collected is not "
        "stored (docs/privacy.md).",
    )
    retention_days_by_kind: dict[str, int] = Field(
        default_factory=dict,
        description="Retention days per source kind, overriding `retention_days`: "
        "`ECOUTE_RETENTION_DAYS_BY_KIND='{\"mailbox\": 365, \"mastodon\": 730}'`; 0 keeps "
        "that kind's items.",
    )
    retention_action: Literal["delete", "anonymise"] = Field(
        "delete",
        description="What the daily purge does to an item past its retention: `delete` it "
        "(with its tags), or `anonymise` it (text, title, author pseudonym, link and extra "
        "fields blanked; date, channel, site, department, rating, sentiment and determinant "
        "tags kept for later analyses).",
    )
    retention_quarantine_days: int = Field(
        90, ge=0,
        description="Quarantine entries resolved (retried or dismissed) more than this many "
        "days ago are deleted by the daily purge (0 keeps them).",
    )
    retention_quarantine_unresolved_days: int = Field(
        365, ge=0,
        description="Quarantine entries nobody resolved are deleted this many days after they "
        "were created (0 keeps them); longer than `retention_quarantine_days` so that there "
        "is time to look at them.",
    )
    retention_runs_days: int = Field(
        180, ge=0,
        description="Collection runs older than this many days are deleted by the daily purge "
        "(0 keeps them); quarantine rows keep their content.",
    )

    public_base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Address at which people reach this ecoute (API, dashboard, unsubscribe "
        "pages), e.g. `https://ecoute.example.org`; digest e-mails link to it.",
    )
    smtp_host: str = Field("localhost", description="Mail server that sends the digests.")
    smtp_port: int | None = Field(
        None, ge=1, le=65535,
        description="Port of the mail server. Empty: 465 with `smtp_security = ssl`, 587 with "
        "`starttls`, 25 with `none`.",
    )
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls",
        description="`starttls` (upgrade the connection, refused if the server cannot), `ssl` "
        "(TLS from the first byte) or `none` (a relay on the same machine only).",
    )
    smtp_ca_file: Path | None = Field(
        None,
        description="PEM file of the certificate authorities that may sign the mail server's "
        "certificate (an internal authority); empty: the system's.",
    )
    smtp_username: str | None = Field(
        None, description="User name for the mail server; empty: no authentication."
    )
    smtp_password: str | None = Field(
        None, description="Password for the mail server (prefer `smtp_password_file`)."
    )
    smtp_password_file: Path | None = Field(
        None,
        description="File holding the mail server's password (a Docker or systemd secret); "
        "read at each sending, trailing newline ignored. Wins over `smtp_password`.",
    )
    smtp_timeout: float = Field(30.0, gt=0, description="Seconds to wait for the mail server.")
    smtp_retries: int = Field(
        2, ge=0,
        description="Immediate retries of a digest the mail server refused for the time being "
        "(4xx answer, connection lost), `smtp_backoff_seconds` apart and doubling; after them "
        "the digest is tried again by the next `ecoute digest send` (hourly under `ecoute run`).",
    )
    smtp_backoff_seconds: float = Field(
        2.0, ge=0, description="First wait before retrying a digest the mail server deferred."
    )
    mail_from: str = Field(
        "ecoute <ecoute@localhost>",
        description="Sender of the digest e-mails (`Name <address>`); use an address of your "
        "domain so that mail servers accept them.",
    )
    digest_secret: str | None = Field(
        None,
        description="Secret key that signs the links of e-mails (digest unsubscribe links, "
        "volunteers' accept and decline links); changing it voids the links already sent. "
        "Empty: a key derived from `pseudonym_key` (which `env = prod` requires to be secret).",
    )
    digest_max_attempts: int = Field(
        6, ge=1,
        description="Sendings of one digest the mail server may defer before it is recorded as "
        "failed (shown by `ecoute digest list` and in `/api/v1/health`).",
    )
    digest_claim_seconds: float = Field(
        900.0, ge=10,
        description="How long a digest taken by a sender stays its own before another may take "
        "it (the first one died before sending).",
    )
    digest_verbatim_confidence: float = Field(
        0.6, ge=0, le=1,
        description="Lowest confidence of a determinant tag whose sentence a digest quotes.",
    )

    routing_default_department: str | None = Field(
        None,
        description="Department that receives the items no routing rule matches and no source "
        "assigned, in every authority not in `routing_default_department_by_authority` "
        "(created when first used). Empty: such items stay without a department.",
    )
    routing_default_department_by_authority: dict[str, str] = Field(
        default_factory=dict,
        description="Default department per authority slug, overriding "
        "`routing_default_department`: "
        "`ECOUTE_ROUTING_DEFAULT_DEPARTMENT_BY_AUTHORITY='{\"valmont\": \"Accueil\"}'`.",
    )
    followup_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [Channel.COMPLAINT.value, Channel.SERVICE_REQUEST.value],
        description="Channels whose every item calls for action and gets a follow-up (status, "
        "assignee, due date), separated by commas; by default `complaint,service_request`.",
    )
    followup_negative_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [Channel.REVIEW.value],
        description="Channels whose negative items (by the officer's or the model's sentiment) "
        "get a follow-up, separated by commas; by default `review`.",
    )
    followup_max_age_days: int = Field(
        30, ge=0,
        description="Items received (published, or collected when undated) more than this many "
        "days before they are routed get no follow-up: an import of past years must not open "
        "thousands of overdue ones. 0: no limit.",
    )
    response_promise_by_authority: dict[str, int] = Field(
        default_factory=dict,
        description="Response promise per authority slug, overriding "
        "`response_promise_working_days`: "
        "`ECOUTE_RESPONSE_PROMISE_BY_AUTHORITY='{\"valmont\": 10}'`.",
    )
    # The checks live in ``setting_types``: the class stays the list of settings.
    @field_validator("followup_channels", "followup_negative_channels", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        return checks.split_commas(value)

    @field_validator("followup_channels", "followup_negative_channels")
    @classmethod
    def _known_channels(cls, value: list[str]) -> list[str]:
        return checks.known_channels(value)

    @field_validator("response_promise_by_authority")
    @classmethod
    def _promise_days(cls, value: dict[str, int]) -> dict[str, int]:
        return checks.promise_days(value)

    @field_validator("retention_days_by_kind")
    @classmethod
    def _kept_days(cls, value: dict[str, int]) -> dict[str, int]:
        return checks.kept_days(value)

    @field_validator("file_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: object) -> object:
        return checks.split_paths(value)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        return checks.database_url(value)

    @field_validator("redact_patterns")
    @classmethod
    def _linear_patterns(cls, value: dict[str, str]) -> dict[str, str]:
        return checks.linear_patterns(value)

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        checks.check_pseudonym_key(self.env, self.pseudonym_key)
        checks.check_webhook_secret(self.backup_webhook_url, self.backup_webhook_secret)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return checks.config_sources(settings_cls, init_settings, env_settings, dotenv_settings)

    def response_promise(self, authority_slug: str) -> int:
        """Working days ``authority_slug`` promises to answer within."""
        return self.response_promise_by_authority.get(
            authority_slug, self.response_promise_working_days)

    def default_department(self, authority_slug: str) -> str | None:
        """Name of the department that receives ``authority_slug``'s unrouted items."""
        return self.routing_default_department_by_authority.get(
            authority_slug, self.routing_default_department)

    def shown(self) -> dict[str, object]:
        """The settings as JSON for people: secrets (pseudonym key, database password)
        hidden."""
        data = self.model_dump(mode="json")
        data["pseudonym_key"] = "(hidden)"
        for secret in ("digest_secret", "smtp_password", "backup_webhook_secret"):
            if data[secret]:
                data[secret] = "(hidden)"
        data["database_url"] = hide_password(self.database_url)
        return data


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"invalid setting {field}: {first['msg']}",
            hint="see docs/configuration.md",
        ) from exc
