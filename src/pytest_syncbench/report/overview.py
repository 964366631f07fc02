"""Rankings per scenario, the trade-off table and the runs' provenance."""

from __future__ import annotations

import platform
from importlib import metadata

from pytest_syncbench.report.clock import join_labels
from pytest_syncbench.report.codemetrics import CodeMetrics
from pytest_syncbench.report.costs import Cost
from pytest_syncbench.report.dataset import Dataset, num, rank_key, total
from pytest_syncbench.report.failures import recovery_cell
from pytest_syncbench.report.figures import Num, Piece, Section, Table

RANK_RULE = (
    "finished (converged) before unfinished, then less data loss, lower p95 latency, "
    "fewer HubSpot API calls"
)


def rankings(dataset: Dataset) -> Section:
    section = Section("rankings", "Rankings per scenario")
    section.paragraphs.append([f"Order: {RANK_RULE}."])
    for scenario in dataset.scenarios:
        cases = [c for n in dataset.solutions if (c := dataset.case(scenario, n))]
        cases.sort(key=rank_key)
        table = Table(
            ["rank", "solution", "status", "data loss", "p95 s", "calls"],
            caption=scenario,
        )
        for place, case in enumerate(cases, start=1):
            table.rows.append(
                [
                    str(place),
                    case.solution,
                    str(case.info.get("status")),
                    num(case, "data_loss"),
                    num(case, "latency_s.p95"),
                    num(case, "api_calls.total"),
                ]
            )
        section.tables.append(table)
    return section


def tradeoffs(
    dataset: Dataset,
    costs: dict[str, Cost],
    metrics: dict[str, CodeMetrics],
    scenario: str,
) -> Section:
    section = Section("tradeoffs", "Trade-offs")
    table = Table(
        [
            "solution",
            f"calls ({scenario})",
            f"p95 s ({scenario})",
            "inconsistent records (all)",
            "data loss (all)",
            "outage recovery s",
            "CPU s (all)",
            "run $/mo",
            "TCO",
            "logical lines",
            "branches",
        ],
        caption="inconsistent: missing + stale + ghost at the end of each case, summed",
    )
    for name in dataset.solutions:
        cases = [c for s in dataset.scenarios if (c := dataset.case(s, name))]
        ref = dataset.case(scenario, name)
        code = metrics.get(name)
        item = costs.get(name)
        table.rows.append(
            [
                name,
                num(ref, "api_calls.total") if ref else "n/a",
                num(ref, "latency_s.p95") if ref else "n/a",
                total(
                    [
                        num(c, f"consistency.{k}")
                        for c in cases
                        for k in ("missing", "stale", "ghost")
                    ]
                ),
                total([num(c, "data_loss") for c in cases]),
                recovery_cell(dataset.case("outage", name)),
                total([num(c, "cpu_s") for c in cases]),
                item.run_usd if item else "n/a",
                item.tco_usd if item else "n/a",
                Num(code.logical_lines, (), "model") if code else "n/a",
                Num(code.branches, (), "model") if code else "n/a",
            ]
        )
    section.tables.append(table)
    unmeasured = [n for n in dataset.solutions if n not in metrics]
    if unmeasured:
        section.paragraphs.append(
            [
                f"Code not measured (logical lines and branches n/a): "
                f"{', '.join(unmeasured)}. Only solutions importable as solutions.* or "
                "registered through the pytest_syncbench.solutions entry points are "
                "measured."
            ]
        )
    if metrics:
        section.paragraphs.append(
            [
                "Code metrics are measured from the installed code when the report is made, "
                "not from the commit of the run: ",
                "; ".join(f"{n}: {', '.join(m.modules)}" for n, m in metrics.items()),
                ".",
            ]
        )
    return section


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def provenance(dataset: Dataset) -> Section:
    section = Section("provenance", "Provenance")
    table = Table(
        [
            "file",
            "saved",
            "commit",
            "branch",
            "dirty",
            "scale",
            "seed",
            "tier",
            "schema",
            "clock",
            "machine",
            "CPU",
            "Python",
            "pytest-benchmark",
        ],
    )
    for results in dataset.files:
        commit, machine = results.commit, results.machine
        cpu = machine.get("cpu") if isinstance(machine.get("cpu"), dict) else {}
        infos = [c.info for c in results.cases]

        def values(name: str, infos: list[dict] = infos) -> str:
            return ",".join(sorted({str(i.get(name)) for i in infos}))

        row: list[Piece] = [
            str(results.path),
            results.datetime,
            str(commit.get("id") or "unknown")[:12],
            str(commit.get("branch") or ""),
            str(commit.get("dirty", "")),
            values("scale"),
            values("seed"),
            values("tier"),
            values("schema"),
            join_labels(results.clocks),
            f"{machine.get('node', '?')} {machine.get('system', '')} "
            f"{machine.get('machine', '')}".strip(),
            f"{cpu.get('brand_raw', '?')} x{cpu.get('count', '?')}",
            f"{machine.get('python_implementation', '')} "
            f"{machine.get('python_version', '?')}".strip(),
            results.benchmark_version or "?",
        ]
        table.rows.append(row)
    section.tables.append(table)
    section.paragraphs.append(
        [
            f"Report made with pytest-syncbench {_version('pytest-syncbench')} on Python "
            f"{platform.python_version()}."
        ]
    )
    if dataset.clock.live:
        section.paragraphs.append([f"Clock: {dataset.clock.caveat}."])
    for note in dataset.notes:
        section.paragraphs.append([f"Note: {note}."])
    return section
