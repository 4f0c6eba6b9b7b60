"""Politeness rules of the shared HTTP client: per-host pacing, robots.txt, Retry-After.

Kept apart from ``http.py`` so that the fetch mechanics (guard, retries, size limit) and the
rules about how often and where a collector may go can be read separately.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.robotparser import RobotFileParser


class HostThrottle:
    """Spaces requests to one host by at least ``interval`` seconds.

    One instance is shared by every fetcher of the process (see ``SHARED_THROTTLE``), so that
    ten sources on the same website scheduled together do not hit it ten times at once.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def wait(self, host: str, interval: float) -> float:
        """Block until ``host`` may be asked again; returns the seconds waited."""
        if interval <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(host, now))
            # Reserve the slot before sleeping so concurrent callers queue up behind it.
            self._next_slot[host] = slot + interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay

    def push_back(self, host: str, seconds: float) -> None:
        """Keep ``host`` quiet for ``seconds`` (a Crawl-delay or a Retry-After)."""
        with self._lock:
            until = self._clock() + seconds
            self._next_slot[host] = max(self._next_slot.get(host, 0.0), until)


SHARED_THROTTLE = HostThrottle()


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, delta)


class RobotsPolicy:
    """robots.txt rules per host, fetched once and kept for ``ttl`` seconds.

    Follows RFC 9309: a missing robots.txt (any 4xx) allows everything; a server error or an
    unreachable server means "do not crawl for now".
    """

    def __init__(self, user_agent: str, ttl: float = 3600.0) -> None:
        self.user_agent = user_agent
        self.ttl = ttl
        self._lock = threading.Lock()
        self._rules: dict[str, tuple[float, RobotFileParser | bool]] = {}

    def rules_for(
        self, origin: str, fetch: Callable[[str], tuple[int, bytes]]
    ) -> RobotFileParser | bool:
        """The parsed rules of ``origin`` (``scheme://host:port``), or True/False for
        allow-all/deny-all. ``fetch(url)`` returns (status, body) or raises on network errors.
        """
        with self._lock:
            cached = self._rules.get(origin)
            if cached and time.monotonic() - cached[0] < self.ttl:
                return cached[1]
        try:
            status, body = fetch(origin + "/robots.txt")
        except Exception:  # noqa: BLE001 - any failure to read robots.txt means "wait"
            rules: RobotFileParser | bool = False
        else:
            if 400 <= status < 500:
                rules = True
            elif status >= 500:
                rules = False
            else:
                parser = RobotFileParser()
                parser.parse(body.decode("utf-8", "replace").splitlines())
                rules = parser
        with self._lock:
            self._rules[origin] = (time.monotonic(), rules)
        return rules

    def allowed(self, rules: RobotFileParser | bool, url: str) -> bool:
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self.user_agent, url)

    def crawl_delay(self, rules: RobotFileParser | bool) -> float | None:
        if isinstance(rules, bool):
            return None
        delay = rules.crawl_delay(self.user_agent)
        return float(delay) if delay is not None else None
