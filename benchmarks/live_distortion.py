"""Run one smoke-scale case on the virtual clock and then live at each given speedup.

Usage: python benchmarks/live_distortion.py SCENARIO SOLUTION SPEEDUP...

Each row is a fresh case in this process, so the rows are measured side by side on the
same machine under the same load. docs/live.md shows a run of it.
"""

from __future__ import annotations

import sys
import time

from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info
from pytest_syncbench.scenarios import Scale, scenario


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    name, solution, *speedups = argv
    spec = scenario(name, Scale.SMOKE)
    solution_cls = discover()[solution]
    runs = [("virtual", 1.0)] + [("live", float(value)) for value in speedups]
    for mode, speedup in runs:
        started = time.perf_counter()
        setup = CaseSetup(
            spec=spec,
            solution_cls=solution_cls,
            seed=1,
            clock_mode=mode,
            speedup=speedup,
        )
        info = extra_info(run_case(setup), "smoke", setup.tier)
        wall_s = time.perf_counter() - started
        lag = info["clock"].get("tick_lag_s", {})
        print(
            f"{mode:7} {speedup:>6g}x wall {wall_s:6.1f}s status {info['status']:9} "
            f"calls {info['api_calls']['total']:5} p50 {info['latency_s']['p50']} "
            f"p95 {info['latency_s']['p95']} loss {info['data_loss']} "
            f"tick lag p95 {lag.get('p95')} max {lag.get('max')}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
