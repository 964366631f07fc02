"""A push repeated after it had landed is counted twice by Databox, and the run shows it."""

from pytest_syncbench.clock import Clock, iso_ms
from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.scenarios import ScenarioSpec
from solutions.native_integration import NativeIntegration, metric_items

SPEC = ScenarioSpec(
    name="duplicates",
    description="a short stream synced by aggregates",
    companies=200,
    streams=(StreamSpec(40, 1200.0, 300.0),),
    settle_s=3600.0,
)


class PushesTwice(NativeIntegration):
    """Pushes a second snapshot right after each sync, dated a moment later."""

    name = "pushes-twice"

    async def sync(self, clock: Clock) -> bool:
        landed = await super().sync(clock)
        if landed and self._databox is not None:
            counts = {None: self.stats["syncs"]}
            await self._databox.push(metric_items(counts, iso_ms(clock.now_ms())))
        return landed


class PushesTwiceSameDate(NativeIntegration):
    """Repeats each snapshot with the date of the first push."""

    name = "pushes-twice-same-date"

    async def sync(self, clock: Clock) -> bool:
        started = iso_ms(clock.now_ms())
        landed = await super().sync(clock)
        if landed and self._databox is not None:
            await self._databox.push(metric_items({None: 1}, started))
        return landed


def _consistency(solution_cls: type[NativeIntegration]) -> dict[str, int]:
    outcome = run_case(CaseSetup(spec=SPEC, solution_cls=solution_cls, seed=2))
    assert outcome.error is None, outcome.error
    return outcome.consistency.as_dict()


def test_native_integration_pushes_each_snapshot_once():
    assert _consistency(NativeIntegration)["duplicated"] == 0


def test_snapshot_repeated_at_its_date_is_duplicated():
    consistency = _consistency(PushesTwiceSameDate)
    assert consistency["duplicated"] > 0


def test_later_date_is_new_point():
    assert _consistency(PushesTwice)["duplicated"] == 0
