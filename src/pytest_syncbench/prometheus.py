"""Prometheus metrics of the running cases, served over HTTP for the whole session.

``--syncbench-prometheus-port=PORT`` starts an HTTP server on 127.0.0.1:PORT that serves
``/metrics`` in the Prometheus text format, and a :class:`PrometheusObserver` that updates
the metrics from every case on each watch tick (5 simulated seconds). Every series carries
the labels ``scenario`` and ``solution``. The request counters count what the mocks served,
as the results' ``api_calls`` do, so after a case a query of
``sum(syncbench_hubspot_requests_total)`` for it returns ``api_calls.total``.

Latencies are in simulated seconds on either clock. ``rate()`` over these series runs on
Prometheus's wall clock: under ``--syncbench-clock=live --syncbench-speedup=N`` one wall
second holds N simulated seconds, and on the virtual clock a whole case may pass between
two scrapes.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import start_http_server

from pytest_syncbench.observe import CaseView

logger = logging.getLogger(__name__)

CASE_LABELS = ("scenario", "solution")
# Change-to-destination latency buckets, simulated seconds: from webhook speed (seconds) to
# hourly pulls and outages (hours).
LATENCY_BUCKETS_S = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
# Simulated seconds between two comparisons of the destination with HubSpot. Each one goes
# through every company, so it is not done on every tick.
CONSISTENCY_EVERY_S = 60.0
INCONSISTENCY_KINDS = ("missing", "stale", "ghost")
# The dispatcher's counters behind syncbench_webhook_deliveries_total, by outcome.
WEBHOOK_OUTCOMES = {
    "delivered": "delivered_events",
    "failed": "retries",
    "dropped": "dropped_events",
}

COUNTERS = {
    "syncbench_hubspot_requests": (
        "Requests the mock HubSpot served, by route, method and HTTP status.",
        ("endpoint", "method", "status"),
    ),
    "syncbench_databox_requests": (
        "Requests the mock Databox served, by route, method and HTTP status.",
        ("endpoint", "method", "status"),
    ),
    "syncbench_changes_delivered": (
        "HubSpot changes that became visible in Databox.",
        (),
    ),
    "syncbench_webhook_deliveries": (
        "Webhook events by outcome: delivered, failed (an attempt to be retried) or "
        "dropped (retries exhausted).",
        ("outcome",),
    ),
}
GAUGES = {
    "syncbench_pending_changes": (
        "Changes made in HubSpot that are not yet visible in Databox.",
        (),
    ),
    "syncbench_solution_backlog": ("Changes the solution reports as queued.", ()),
    "syncbench_hubspot_daily_limit": ("The account's daily API request limit.", ()),
    "syncbench_hubspot_daily_remaining": (
        "API requests left of today's limit in the account's time zone.",
        (),
    ),
    "syncbench_hubspot_burst_remaining": (
        "API requests left in the current 10-second window.",
        (),
    ),
    "syncbench_inconsistent_records": (
        "Destination records that differ from HubSpot, by kind: missing, stale or ghost.",
        ("kind",),
    ),
    "syncbench_simulated_time_seconds": (
        "Simulated seconds since the case started.",
        (),
    ),
    "syncbench_case_running": ("1 while the case runs, 0 once it has ended.", ()),
}
HISTOGRAM = "syncbench_change_latency_seconds"

# Every series name a scrape can return.
SERIES = frozenset(
    [f"{name}_total" for name in COUNTERS]
    + list(GAUGES)
    + [f"{HISTOGRAM}_{suffix}" for suffix in ("bucket", "sum", "count")]
)


class Metrics:
    """The metric families in one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.counters = {
            name: Counter(name, text, (*CASE_LABELS, *labels), registry=self.registry)
            for name, (text, labels) in COUNTERS.items()
        }
        self.gauges = {
            name: Gauge(name, text, (*CASE_LABELS, *labels), registry=self.registry)
            for name, (text, labels) in GAUGES.items()
        }
        self.latency = Histogram(
            HISTOGRAM,
            "Change-to-destination latency in simulated seconds.",
            CASE_LABELS,
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )


@dataclass(slots=True)
class _Seen:
    """How far one case's records have been counted."""

    hubspot_calls: int = 0
    databox_calls: int = 0
    resolved: int = 0
    webhooks: dict[str, int] = field(default_factory=dict)
    next_consistency_s: float = 0.0


class PrometheusObserver:
    """Updates :class:`Metrics` from the cases it observes."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._seen: dict[int, _Seen] = {}

    def case_started(self, view: CaseView) -> None:
        self._seen[id(view)] = _Seen()
        labels = _labels(view)
        self.metrics.gauges["syncbench_case_running"].labels(**labels).set(1)
        self.tick(view)

    def tick(self, view: CaseView) -> None:
        seen = self._seen.get(id(view))
        if seen is None:
            return
        labels = _labels(view)
        self._update(view, seen, labels)
        now = view.clock.now()
        if now >= seen.next_consistency_s:
            seen.next_consistency_s = now + CONSISTENCY_EVERY_S
            self._set_consistency(view.consistency_now(), labels)

    def case_ended(self, view: CaseView) -> None:
        seen = self._seen.pop(id(view), None)
        if seen is None:
            return
        labels = _labels(view)
        self._update(view, seen, labels)
        self._set_consistency(view.final, labels)
        self.metrics.gauges["syncbench_case_running"].labels(**labels).set(0)

    def _update(self, view: CaseView, seen: _Seen, labels: dict[str, str]) -> None:
        """Add what happened since the last update, and set the gauges."""
        self._count_calls(view, seen, labels)
        self._count_deliveries(view, seen, labels)
        self._count_webhooks(view, seen, labels)
        self._set_gauges(view, labels)

    def _count_calls(self, view: CaseView, seen: _Seen, labels: dict[str, str]) -> None:
        counters = self.metrics.counters
        if view.hubspot is not None:
            calls = view.hubspot.calls
            requests = counters["syncbench_hubspot_requests"]
            _add_calls(requests, labels, calls[seen.hubspot_calls :])
            seen.hubspot_calls = len(calls)
        if view.databox is not None:
            calls = view.databox.calls
            requests = counters["syncbench_databox_requests"]
            _add_calls(requests, labels, calls[seen.databox_calls :])
            seen.databox_calls = len(calls)

    def _count_deliveries(
        self, view: CaseView, seen: _Seen, labels: dict[str, str]
    ) -> None:
        tracker = view.tracker
        resolved = tracker.resolved_order
        if seen.resolved == len(resolved):
            return
        changes = view.store.changes
        start_ms = tracker.start_ms
        since = view.measure_from_seq
        histogram = self.metrics.latency.labels(**labels)
        delivered = 0
        for seq in resolved[seen.resolved :]:
            delivered += 1
            if seq < since:
                continue
            committed_s = max(0.0, (changes[seq].committed_ms - start_ms) / 1000)
            histogram.observe(max(0.0, tracker.visible_s[seq] - committed_s))
        seen.resolved = len(resolved)
        self.metrics.counters["syncbench_changes_delivered"].labels(**labels).inc(
            delivered
        )

    def _count_webhooks(
        self, view: CaseView, seen: _Seen, labels: dict[str, str]
    ) -> None:
        dispatcher = getattr(view.hubspot, "webhooks", None)
        if dispatcher is None:
            return
        counter = self.metrics.counters["syncbench_webhook_deliveries"]
        for outcome, attribute in WEBHOOK_OUTCOMES.items():
            value = getattr(dispatcher, attribute, None)
            if not isinstance(value, int):
                continue
            grown = value - seen.webhooks.get(outcome, 0)
            if grown > 0:
                counter.labels(**labels, outcome=outcome).inc(grown)
                seen.webhooks[outcome] = value

    def _set_gauges(self, view: CaseView, labels: dict[str, str]) -> None:
        gauges = self.metrics.gauges
        gauges["syncbench_pending_changes"].labels(**labels).set(
            view.tracker.unresolved
        )
        backlog = view.solution.backlog() if view.solution is not None else 0
        gauges["syncbench_solution_backlog"].labels(**labels).set(backlog)
        gauges["syncbench_simulated_time_seconds"].labels(**labels).set(
            view.clock.now()
        )
        if view.hubspot is None:
            return
        limits = view.hubspot.config.limits
        limiter = view.hubspot.limiter
        now_ms = view.clock.now_ms()
        if limits.daily is not None:
            gauges["syncbench_hubspot_daily_limit"].labels(**labels).set(limits.daily)
            gauges["syncbench_hubspot_daily_remaining"].labels(**labels).set(
                max(0, limits.daily - limiter.daily.used(now_ms))
            )
        gauges["syncbench_hubspot_burst_remaining"].labels(**labels).set(
            max(0, limits.burst_per_10s - limiter.burst.count(now_ms))
        )

    def _set_consistency(self, consistency: Any, labels: dict[str, str]) -> None:
        gauge = self.metrics.gauges["syncbench_inconsistent_records"]
        for kind in INCONSISTENCY_KINDS:
            gauge.labels(**labels, kind=kind).set(getattr(consistency, kind))


def _labels(view: CaseView) -> dict[str, str]:
    return {
        "scenario": view.setup.spec.name,
        "solution": view.setup.solution_cls.name,
    }


def _add_calls(counter: Counter, labels: dict[str, str], calls: list[Any]) -> None:
    tally: Tally[tuple[str, str, str]] = Tally()
    for call in calls:
        method, _, route = call.endpoint.partition(" ")
        tally[(route, method, str(call.status))] += 1
    for (route, method, status), count in tally.items():
        counter.labels(**labels, endpoint=route, method=method, status=status).inc(
            count
        )


class MetricsServer:
    """The session's metrics and the HTTP server that serves them.

    It listens on 127.0.0.1 by default. A Prometheus in a container on Linux reaches the
    host only through the bridge's address, such as 172.17.0.1.
    """

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        # Without this, the client adds a *_created series to every counter and histogram,
        # which no panel or alert reads. The setting is process-wide.
        disable_created_metrics()
        self.metrics = Metrics()
        self.observer = PrometheusObserver(self.metrics)
        self.host = host
        self._server, self._thread = start_http_server(
            port, addr=host, registry=self.metrics.registry
        )
        self.port = int(self._server.server_port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
