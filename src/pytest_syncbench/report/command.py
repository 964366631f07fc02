"""The ``syncbench report`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_syncbench.report.load import ReportError
from pytest_syncbench.report.prices import PriceError

if TYPE_CHECKING:
    from pytest_syncbench.report.dataset import Dataset


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ReportError(f"{output}: cannot write the report ({error})") from None
    print(f"wrote {output}", file=sys.stderr)


def _warn_duplicates(dataset: Dataset) -> None:
    """Print one stderr line per case given more than once, naming the file it is taken from."""
    for duplicate in dataset.duplicates:
        used = dataset.files[duplicate.used.file].path
        dropped = dataset.files[duplicate.dropped.file].path
        where = f"twice in {used}" if used == dropped else f"in {dropped} and {used}"
        print(
            f"syncbench report: warning: {duplicate.label} is {where}; the report uses "
            f"the last one given, from {used}",
            file=sys.stderr,
        )


def _render(args: argparse.Namespace) -> str:
    from pytest_syncbench.report.build import build_report
    from pytest_syncbench.report.html import render_html
    from pytest_syncbench.report.load import load_results
    from pytest_syncbench.report.markdown import render_markdown
    from pytest_syncbench.report.prices import load_prices
    from pytest_syncbench.report.trends import render_trends

    if args.trend is not None:
        if args.results:
            raise ReportError(
                "--trend reads a storage folder; pass either results files or --trend DIR"
            )
        return render_trends(args.trend, args.format)
    prices = load_prices(args.prices)
    report = build_report(load_results(args.results), prices)
    _warn_duplicates(report.dataset)
    if args.format == "markdown":
        return render_markdown(report)
    return render_html(report)


def run(args: argparse.Namespace) -> int:
    if args.print_prices:
        from pytest_syncbench.report.prices import default_text

        sys.stdout.write(default_text())
        return 0
    output = None if args.output is None else Path(args.output)
    if args.output == "":
        print(
            "syncbench report: error: the output path (-o) is empty; pass a file "
            "name such as report.html, or omit -o",
            file=sys.stderr,
        )
        return 2
    if output is None and args.format == "html":
        output = Path("report.html")
    try:
        text = _render(args)
        _write(text, output)
    except (ReportError, PriceError) as error:
        print(f"syncbench report: error: {error}", file=sys.stderr)
        return 2
    return 0


def add_parser(commands: Any) -> None:
    """Add the ``report`` command to the ``syncbench`` subcommands."""
    parser = commands.add_parser(
        "report",
        help="write an HTML dashboard or Markdown summary of saved runs",
        description=(
            "Answer the benchmark's five questions (API calls, latency, scale, failures, "
            "cost) from pytest-benchmark JSON files of pytest --syncbench runs, with "
            "rankings, trade-offs, plots, costs and provenance. Exit 2 on unusable input."
        ),
    )
    parser.add_argument(
        "results",
        type=Path,
        nargs="*",
        metavar="RESULTS.json",
        help="results files, all of one clock (virtual, or live at one speedup); the "
        "first one's scale is the report's scale, scale cases of other scales add "
        "points to the scale sweep, and of a case given twice the last one is used",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="where to write the report (default: report.html for HTML, standard "
        "output for Markdown)",
    )
    parser.add_argument(
        "--format",
        choices=["html", "markdown"],
        default="html",
        help="html: the offline dashboard; markdown: a summary short enough for a "
        "pull-request comment. Default: %(default)s.",
    )
    parser.add_argument(
        "--prices",
        type=Path,
        default=None,
        metavar="FILE",
        help="TOML price file whose keys replace the defaults (see --print-prices)",
    )
    parser.add_argument(
        "--print-prices",
        action="store_true",
        help="print the default price file, with the source of every price, and exit",
    )
    parser.add_argument(
        "--trend",
        type=Path,
        default=None,
        metavar="DIR",
        help="plot the headline metrics of every run saved in a pytest-benchmark "
        "storage folder (such as .benchmarks/default) in date order, one series per "
        "clock and speedup",
    )
    parser.set_defaults(run=run)
