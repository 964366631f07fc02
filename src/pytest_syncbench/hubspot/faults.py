"""Declarative fault injection for the mock HubSpot.

A :class:`FaultRule` names the requests it hits (an endpoint pattern), when it is active
(a window in simulated milliseconds since the clock started, and an optional number of
requests) and what the mock returns instead of running the handler: one of HubSpot's error
statuses, or a held request that times out the client. :class:`FaultInjector` keeps the
rules in the order they were added and the first active rule that matches a request wins,
so the same rules and the same request times give the same faults on every run.

The answers follow HubSpot's error-handling guide: 423 is a 2-second lock, 429 is a rate
limit rejection, 500 an internal error, 502 and 504 mean a processing limit was met (an
HTML page from the gateway, not JSON) and 503 that the service is temporarily unavailable.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from pytest_syncbench.hubspot.errors import (
    JSON,
    CorrelationIds,
    html_gateway_error,
    internal_error,
    locked,
    service_unavailable,
)
from pytest_syncbench.hubspot.ratelimit import RateLimiter

FAULT_STATUSES: Final = frozenset({423, 429, 500, 502, 503, 504})
TIMEOUT: Final = "timeout"


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One kind of fault for the requests that match ``endpoint`` while the rule is active.

    ``status`` is the HTTP status to respond with (423, 429, 500, 502, 503 or 504), or
    ``"timeout"`` to keep the request waiting for ``hold_s`` seconds and then respond 504, so that a
    client with a shorter timeout gives up first.

    ``endpoint`` is an ``fnmatch`` pattern matched against the route as :class:`Call`
    records it (``"GET /crm/v3/objects/companies/{company_id}"``) and against the method
    and actual path (``"GET /crm/v3/objects/companies/7"``); a pattern that starts with
    ``/`` is matched against the paths alone, for any method. ``"*"`` matches every route.

    The rule is active from ``start_ms`` (inclusive) to ``end_ms`` (exclusive), both in
    simulated milliseconds since the mock's clock started; None leaves that side open. With
    ``count`` set, the rule hits at most that many requests and is then spent.
    ``latency_s`` adds simulated seconds before the fault response.
    """

    status: int | str
    endpoint: str = "*"
    start_ms: int | None = None
    end_ms: int | None = None
    count: int | None = None
    latency_s: float = 0.0
    hold_s: float = 60.0

    def __post_init__(self) -> None:
        if self.status != TIMEOUT and (
            isinstance(self.status, bool) or self.status not in FAULT_STATUSES
        ):
            accepted = ", ".join(str(s) for s in sorted(FAULT_STATUSES))
            raise ValueError(
                f"invalid fault status {self.status!r}: expected one of {accepted} "
                f"or {TIMEOUT!r}"
            )
        if not isinstance(self.endpoint, str) or not self.endpoint:
            raise ValueError(
                f"invalid fault endpoint {self.endpoint!r}: expected a pattern such "
                "as '*' or 'POST /crm/v3/objects/companies/search'"
            )
        for name in ("start_ms", "end_ms"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(
                    f"invalid fault {name} {value!r}: expected None or milliseconds >= 0"
                )
        if (
            self.start_ms is not None
            and self.end_ms is not None
            and self.end_ms <= self.start_ms
        ):
            raise ValueError(
                f"invalid fault window {self.start_ms}..{self.end_ms} ms: end_ms must "
                "be after start_ms"
            )
        if self.count is not None and (
            not isinstance(self.count, int) or self.count < 1
        ):
            raise ValueError(
                f"invalid fault count {self.count!r}: expected None or an integer >= 1"
            )
        for name in ("latency_s", "hold_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or math.isnan(value) or value < 0:
                raise ValueError(
                    f"invalid fault {name} {value!r}: expected seconds >= 0"
                )

    @property
    def is_timeout(self) -> bool:
        return self.status == TIMEOUT

    def matches(self, labels: tuple[str, ...]) -> bool:
        """Return whether the pattern matches any of the request's route labels."""
        pattern = self.endpoint
        if pattern.startswith("/"):
            paths = [label.partition(" ")[2] for label in labels]
            return any(fnmatch.fnmatchcase(path, pattern) for path in paths)
        return any(fnmatch.fnmatchcase(label, pattern) for label in labels)

    def is_active_at(self, elapsed_ms: int) -> bool:
        if self.start_ms is not None and elapsed_ms < self.start_ms:
            return False
        return self.end_ms is None or elapsed_ms < self.end_ms


class FaultInjector:
    """The fault rules of one mock, with how many requests each has hit."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._hits: list[int] = []

    @property
    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def add(self, rule: FaultRule) -> FaultRule:
        """Append ``rule``; it applies from the next request on."""
        if not isinstance(rule, FaultRule):
            raise TypeError(f"invalid fault rule {rule!r}: expected a FaultRule")
        self._rules.append(rule)
        self._hits.append(0)
        return rule

    def remove(self, rule: FaultRule) -> None:
        index = self._rules.index(rule)
        del self._rules[index]
        del self._hits[index]

    def clear(self) -> None:
        self._rules.clear()
        self._hits.clear()

    def hits(self, rule: FaultRule) -> int:
        """Return how many requests ``rule`` has faulted."""
        return self._hits[self._rules.index(rule)]

    @property
    def total_hits(self) -> int:
        return sum(self._hits)

    def match(self, labels: tuple[str, ...], elapsed_ms: int) -> FaultRule | None:
        """Return the first active rule that matches the request, and count the hit."""
        for index, rule in enumerate(self._rules):
            if rule.count is not None and self._hits[index] >= rule.count:
                continue
            if rule.is_active_at(elapsed_ms) and rule.matches(labels):
                self._hits[index] += 1
                return rule
        return None


def fault_response(
    rule: FaultRule,
    limiter: RateLimiter,
    correlation_ids: CorrelationIds,
    now_ms: int,
    search: bool,
) -> web.Response:
    """Build HubSpot's response for ``rule``, which is a 504 for a timeout rule.

    A 429 carries the rate-limit body and headers of the endpoint's limit: the secondly
    search limit for a search, the 10-second burst for anything else.
    """
    status = 504 if rule.is_timeout else rule.status
    if status == 429:
        decision = limiter.injected_rejection(now_ms, search)
        return web.Response(
            status=429,
            body=decision.rejected_body,
            content_type=JSON,
            headers=decision.headers,
        )
    if status in (502, 504):
        return html_gateway_error(int(status))
    if status == 423:
        return locked(correlation_ids.next())
    if status == 500:
        return internal_error(correlation_ids.next())
    return service_unavailable(correlation_ids.next())
