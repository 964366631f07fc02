"""Changes a solution never delivered enter the latency statistics as censored samples."""

from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.results import extra_info
from pytest_syncbench.scenarios import ScenarioSpec
from pytest_syncbench.solution import Solution, SolutionContext
from solutions.common.events import WebhookEvent
from solutions.webhook_sync import WebhookSync

SPEC = ScenarioSpec(
    name="censored",
    description="a short stream, mostly lost",
    companies=200,
    streams=(StreamSpec(60, 1200.0, 300.0),),
    settle_s=900.0,
)


class StopsAfterFirstEvents(WebhookSync):
    """Applies the first few webhook events fast, then drops every later one."""

    name = "stops-after-first-events"
    applied_events = 5

    async def _on_delivery(self, events: list[WebhookEvent], body: bytes) -> None:
        room = self.applied_events - self.counters["events_received"]
        if room > 0:
            self._enqueue(events[:room])


class DoesNothing(Solution):
    name = "does-nothing"

    async def start(self, context: SolutionContext) -> None:
        pass

    async def stop(self) -> None:
        pass


def _latency(solution_cls: type[Solution]) -> tuple[dict, dict]:
    outcome = run_case(CaseSetup(spec=SPEC, solution_cls=solution_cls, seed=4))
    info = extra_info(outcome, "test", "professional")
    return info, info["latency_s"]


def test_lossy_case_latency_not_fast():
    info, latency = _latency(StopsAfterFirstEvents)

    assert info["status"] == "deadline"
    assert latency["count"] > 0
    assert latency["censored"] > latency["count"]
    # Every lost change is at least settle_s old when the deadline ends the run, and more
    # than half the samples are lost ones.
    assert latency["p50"] >= SPEC.settle_s * 0.999
    assert latency["max"] >= SPEC.settle_s


def test_every_measured_change_is_a_sample():
    outcome = run_case(CaseSetup(spec=SPEC, solution_cls=StopsAfterFirstEvents, seed=4))
    censored = outcome.censored_changes

    assert censored > 0
    assert len(outcome.latencies_s) == outcome.measured_changes
    assert min(outcome.latencies_s[-censored:]) >= SPEC.settle_s


def test_counts_add_up_to_measured():
    info, latency = _latency(StopsAfterFirstEvents)

    assert latency["count"] + latency["censored"] == info["changes"]["measured"]


def test_idle_solution_latency_not_fast():
    info, latency = _latency(DoesNothing)

    # Only changes created and deleted before any sync count as delivered, at once.
    assert latency["count"] < latency["censored"]
    assert latency["count"] + latency["censored"] == info["changes"]["measured"]
    assert latency["p50"] >= SPEC.settle_s * 0.999
