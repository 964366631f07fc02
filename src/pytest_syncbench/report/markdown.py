"""The short Markdown form of a report, sized for a pull-request comment."""

from __future__ import annotations

from pytest_syncbench.report.build import Report
from pytest_syncbench.report.clock import join_labels
from pytest_syncbench.report.figures import Num, Piece, Table, plain


def _cell(piece: Piece) -> str:
    text = piece.text if isinstance(piece, Num) else piece
    return text.replace("|", "\\|")


def _table(table: Table) -> list[str]:
    lines = [
        "| " + " | ".join(table.headers) + " |",
        "|" + "|".join(" --- " for _ in table.headers) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return lines


def _provenance(report: Report) -> str:
    parts = []
    for results in report.dataset.files:
        commit = str(results.commit.get("id") or "unknown")[:12]
        seeds = sorted({str(c.info.get("seed")) for c in results.cases})
        dirty = " (dirty)" if results.commit.get("dirty") else ""
        parts.append(
            f"`{results.path.name}`: commit {commit}{dirty}, seed {','.join(seeds)}, "
            f"{join_labels(results.clocks)} clock, {results.datetime or 'no date'}"
        )
    return "; ".join(parts)


def render_markdown(report: Report) -> str:
    dataset = report.dataset
    lines = [
        f"## syncbench report: {len(dataset.cases)} cases at scale {dataset.scale}, "
        f"{dataset.clock.label} clock",
        "",
        _provenance(report),
        "",
    ]
    if dataset.clock.live:
        lines += [f"> **{dataset.clock.notice}**", ""]

    for section in report.answers:
        lines.append(f"**{section.title}**  ")
        lines.append(plain(section.verdict))
        lines.append("")

    tradeoffs = next(s for s in report.extras if s.key == "tradeoffs")
    lines += _table(tradeoffs.tables[0])
    lines.append("")

    rankings = next(s for s in report.extras if s.key == "rankings")
    lines.append(
        "Rankings ("
        + plain(rankings.paragraphs[0]).removeprefix("Order: ").rstrip(".")
        + "):"
    )
    lines.append("")
    for table in rankings.tables:
        order = " > ".join(_cell(row[1]) for row in table.rows)
        lines.append(f"- {table.caption}: {order}")
    lines.append("")

    clock = f" on the {dataset.clock.label} clock" if dataset.clock.live else ""
    lines.append(
        f"Latency in simulated seconds{clock}. The HTML report (`syncbench report -o "
        "report.html`) has the plots, the cost formula and the price sources."
    )
    return "\n".join(lines) + "\n"
