"""Reading pytest-benchmark JSON files into the cases and provenance a report shows.

Every case keeps the JSON path of its measurements (``benchmarks[3].extra_info.syncbench``)
and the index of its file, so each number in a report can name the field it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_syncbench.jsonfile import read_json as read_json_file
from pytest_syncbench.report.clock import Clock, ClockError, case_clock
from pytest_syncbench.report.schema import FieldError, check_fields
from pytest_syncbench.results import EXTRA_INFO_KEY

INPUT_HINT = (
    "pass a JSON file written by pytest --syncbench --benchmark-json=FILE "
    "or saved under .benchmarks/"
)
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class ReportError(Exception):
    """Unusable input; the message names the file or value and the fix."""


class InvalidCaseError(ReportError):
    """A syncbench case with a field of the wrong type."""


@dataclass(frozen=True)
class Case:
    """One scenario-solution result: its measurements and where they sit in its file."""

    file: int
    index: int
    info: dict[str, Any]
    stats: dict[str, Any] | None

    @property
    def scenario(self) -> str:
        return str(self.info["scenario"])

    @property
    def solution(self) -> str:
        return str(self.info["solution"])

    @property
    def scale(self) -> str:
        return str(self.info.get("scale"))

    @property
    def clock(self) -> Clock:
        """Return the clock the case ran on, whose block ``_check_case`` validated."""
        return case_clock(self.info)

    def path(self, field: str) -> str:
        """Return the JSON path of a dotted field of the measurements."""
        return f"benchmarks[{self.index}].extra_info.{EXTRA_INFO_KEY}.{field}"

    def stats_path(self, field: str) -> str:
        return f"benchmarks[{self.index}].stats.{field}"


@dataclass(frozen=True)
class ResultsFile:
    """One input file: its cases in file order and the run's provenance."""

    number: int
    path: Path
    document: dict[str, Any]
    cases: tuple[Case, ...]

    @property
    def commit(self) -> dict[str, Any]:
        value = self.document.get("commit_info")
        return value if isinstance(value, dict) else {}

    @property
    def machine(self) -> dict[str, Any]:
        value = self.document.get("machine_info")
        return value if isinstance(value, dict) else {}

    @property
    def datetime(self) -> str:
        return str(self.document.get("datetime") or "")

    @property
    def benchmark_version(self) -> str:
        return str(self.document.get("version") or "")

    @property
    def clocks(self) -> set[Clock]:
        return {case.clock for case in self.cases}


def read_json(path: Path) -> Any:
    """Parse a JSON file, raising ReportError that names the file on any failure."""
    return read_json_file(path, ReportError, INPUT_HINT)


def _check_case(path: Path, name: str, info: Any) -> dict[str, Any]:
    if not isinstance(info, dict):
        raise ReportError(f"{path}: extra_info['syncbench'] of {name} is not an object")
    for field in ("scenario", "solution"):
        if not isinstance(info.get(field), str):
            raise ReportError(
                f"{path}: extra_info['syncbench'] of {name} has no {field} name"
            )
    try:
        check_fields(info)
        case_clock(info)
    except (FieldError, ClockError) as error:
        raise InvalidCaseError(
            f"{path}: case {info['scenario']}/{info['solution']}: {error}; "
            "correct the field or rerun pytest --syncbench"
        ) from None
    return info


def parse_results(number: int, path: Path, document: Any) -> ResultsFile:
    """Return the syncbench cases of a parsed pytest-benchmark document."""
    benchmarks = document.get("benchmarks") if isinstance(document, dict) else None
    if not isinstance(benchmarks, list):
        raise ReportError(
            f"{path}: not pytest-benchmark JSON (expected an object with a "
            f"'benchmarks' list); {INPUT_HINT}"
        )
    cases = []
    for index, benchmark in enumerate(benchmarks):
        extra = benchmark.get("extra_info") if isinstance(benchmark, dict) else None
        # Benchmarks of other plugins may share the file.
        if not isinstance(extra, dict) or EXTRA_INFO_KEY not in extra:
            continue
        name = str(benchmark.get("fullname") or benchmark.get("name") or index)
        info = _check_case(path, name, extra[EXTRA_INFO_KEY])
        stats = benchmark.get("stats")
        cases.append(
            Case(number, index, info, stats if isinstance(stats, dict) else None)
        )
    if not cases:
        raise ReportError(
            f"{path}: no benchmark has extra_info['syncbench']; "
            "save the results of a pytest --syncbench run"
        )
    return ResultsFile(number, path, document, tuple(cases))


def load_results(paths: list[Path]) -> list[ResultsFile]:
    """Read every input file in the order given."""
    if not paths:
        raise ReportError(f"no results file given; {INPUT_HINT}")
    return [parse_results(n, path, read_json(path)) for n, path in enumerate(paths)]


def resolve(document: Any, path: str) -> Any:
    """Return the value at a path such as ``benchmarks[3].stats.q1``; KeyError if absent."""
    value = document
    for match in _PATH_PART.finditer(path):
        key, index = match.groups()
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                raise KeyError(path)
            value = value[int(index)]
        else:
            if not isinstance(value, dict) or key not in value:
                raise KeyError(path)
            value = value[key]
    return value
