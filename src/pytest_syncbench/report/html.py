"""The self-contained HTML form of a report: inline style and SVG, no script, no fetch.

Each number is a ``<span class="num">`` with three attributes. ``data-value`` is the
value before rounding for display, and ``data-op`` names the operation that computed it
(see ``figures.py``). ``data-src`` lists the fields it was computed from, ``;``-separated,
as ``FILE:JSON.path``, where FILE is the input file's position on the command line, from
0.
"""

from __future__ import annotations

from html import escape

from pytest_syncbench.report.build import Report
from pytest_syncbench.report.figures import Num, Piece, Section, Table

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; }
td.n { text-align: right; }
caption { caption-side: top; text-align: left; font-style: italic; padding: 4px 0; }
.verdict { font-size: 1.05em; background: #eef6ee; border-left: 4px solid #3a7;
           padding: 0.5em 0.8em; }
.missing { background: #fdf2e2; border-left-color: #e90; }
.clock { background: #fdf2e2; border-left: 4px solid #e90; padding: 0.5em 0.8em; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
.plot { border: 1px solid #eee; }
.num { font-variant-numeric: tabular-nums; }
"""


def _piece(piece: Piece) -> str:
    if not isinstance(piece, Num):
        return escape(piece)
    value = "" if piece.value is None else repr(piece.value)
    return (
        f'<span class="num" data-value="{escape(value)}" data-op="{piece.op}" '
        f'data-src="{escape(";".join(piece.sources))}">{escape(piece.text)}</span>'
    )


def _pieces(pieces: list[Piece]) -> str:
    return "".join(_piece(p) for p in pieces)


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    rows = []
    for row in table.rows:
        cells = []
        for cell in row:
            css = ' class="n"' if isinstance(cell, Num) else ""
            cells.append(f"<td{css}>{_piece(cell)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _section(section: Section, answer: int | None) -> str:
    attributes = f' id="{escape(section.key)}"'
    if answer is not None:
        attributes += f' class="answer" data-question="{answer}"'
    parts = [f"<section{attributes}><h2>{escape(section.title)}</h2>"]
    if section.verdict:
        missing = isinstance(section.verdict[0], str) and section.verdict[0].startswith(
            "Not answered"
        )
        css = "verdict missing" if missing else "verdict"
        parts.append(f'<p class="{css}">{_pieces(section.verdict)}</p>')
    parts += [f"<p>{_pieces(p)}</p>" for p in section.paragraphs]
    parts += [_table(t) for t in section.tables]
    if section.plots:
        parts.append('<div class="plots">' + "".join(section.plots) + "</div>")
    parts.append("</section>")
    return "".join(parts)


def render_html(report: Report) -> str:
    dataset = report.dataset
    inputs = "".join(
        f"<li>{n}: {escape(str(f.path))}</li>" for n, f in enumerate(dataset.files)
    )
    summary = "".join(
        f'<li><a href="#{escape(s.key)}">{escape(s.title)}</a>: {_pieces(s.verdict)}</li>'
        for s in report.answers
    )
    clock = ""
    if dataset.clock.live:
        clock = f'<p class="clock" id="clock">{escape(dataset.clock.notice)}</p>'
    body = "".join(_section(s, n) for n, s in enumerate(report.answers, start=1))
    body += "".join(_section(s, None) for s in report.extras)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>syncbench report</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>HubSpot-to-Databox sync benchmark: {len(dataset.cases)} cases at scale "
        f"{escape(dataset.scale)}, {escape(dataset.clock.label)} clock</h1>"
        f"<p>Input files (numbered as in each figure's data-src):</p><ul>{inputs}</ul>"
        "<p>Times are simulated seconds unless marked otherwise; every figure is computed "
        "from the input files.</p>"
        f'<h2>Summary</h2>{clock}<ol class="summary">{summary}</ol>'
        f"{body}</body></html>\n"
    )
