"""``kedro mlops monitor --dashboard``: the monitoring history as one self-contained HTML page
(inline SVG, no script, nothing fetched): per drift check its drift share over time and the
columns that drift most often; per performance check the gate metric of each model version over
time against its test value, and the share of rows labelled."""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kedro_mlops.monitoring.history import Entry

WIDTH, HEIGHT, PAD = 640, 180, 36
TOP_SERIES = 3  # the most often drifted columns drawn over time
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
esc = html.escape


def _chart(
    title: str,
    series: dict[str, list[tuple[float, float]]],
    *,
    kind: str,
    span: tuple[float, float],
    guides: dict[str, float] | None = None,
    percent: bool = False,
) -> str:
    """An SVG line chart: x is time (epoch seconds within ``span``), y the value."""
    values = [y for points in series.values() for _, y in points] + list((guides or {}).values())
    low, high = (0.0, 1.0) if percent or not values else (min(values), max(values))
    if high - low < 1e-9:  # noqa: PLR2004 - one value: give the line some room
        low, high = low - 0.5, high + 0.5
    start, end = span
    width = max(end - start, 1.0)

    def xy(x: float, y: float) -> tuple[float, float]:
        return (
            PAD + (x - start) / width * (WIDTH - 2 * PAD),
            HEIGHT - PAD - (y - low) / (high - low) * (HEIGHT - 2 * PAD),
        )

    shown = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.3g}")
    parts = [
        f'<svg class="chart" data-kind="{esc(kind)}" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img"><title>{esc(title)}</title>',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#999"/>',
        f'<text x="2" y="{PAD}" font-size="10">{shown(high)}</text>',
        f'<text x="2" y="{HEIGHT - PAD}" font-size="10">{shown(low)}</text>',
    ]
    for number, (name, value) in enumerate((guides or {}).items()):
        _, y = xy(start, value)
        colour = COLOURS[number % len(COLOURS)]
        parts.append(
            f'<line class="guide" data-series="{esc(name)}" x1="{PAD}" y1="{y:.1f}" '
            f'x2="{WIDTH - PAD}" y2="{y:.1f}" stroke="{colour}" stroke-dasharray="4 3"/>'
        )
    for number, (name, points) in enumerate(series.items()):
        colour = COLOURS[number % len(COLOURS)]
        coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in (xy(x, y) for x, y in points))
        parts.append(
            f'<g class="series" data-series="{esc(name)}" data-points="{len(points)}">'
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}"/>'
        )
        for x, y in points[-200:]:  # markers for the latest points (each with its value)
            px, py = xy(x, y)
            when = datetime.fromtimestamp(x).isoformat(timespec="minutes")
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2" fill="{colour}">'
                f"<title>{esc(name)} {when}: {shown(y)}</title></circle>"
            )
        parts.append("</g>")
    legend = " ".join(
        f'<span style="color:{COLOURS[n % len(COLOURS)]}">&#9632; {esc(name)}</span>'
        for n, name in enumerate(series)
    )
    return "".join(parts) + f"</svg><div class='legend'>{legend}</div>"


def _time(entry: Entry) -> float:
    return datetime.fromisoformat(entry.at).timestamp()


def _drift_section(name: str, entries: list[Entry], span: tuple[float, float]) -> str:
    points = [
        (_time(e), float(e.figures["drift_share"]))
        for e in entries
        if e.figures.get("drift_share") is not None
    ]
    drifted: Counter[str] = Counter()
    for entry in entries:
        drifted.update(entry.figures.get("drifted") or [])
    latest = entries[-1]
    rows = "".join(
        f"<tr><td>{esc(column)}</td><td>{count}</td><td>{count / len(entries):.0%}</td></tr>"
        for column, count in drifted.most_common(10)
    )
    chart = _chart(
        f"drift share of {name}",
        {f"drift_share:{name}": points},
        kind="drift",
        span=span,
        percent=True,
    )
    top = [column for column, _ in drifted.most_common(TOP_SERIES)]
    scores = {
        f"score:{name}:{column}": [
            (_time(e), float(e.figures["columns"][column]["score"]))
            for e in entries
            if column in (e.figures.get("columns") or {})
        ]
        for column in top
    }
    columns = (
        _chart(f"drift scores of {name}", scores, kind="columns", span=span)
        if top
        else "<p>no column drifted yet</p>"
    )
    return (
        f'<section class="check" data-check="{esc(name)}" data-kind="drift">'
        f"<h2>drift check {esc(name)}: {esc(latest.status)}</h2>"
        f"<p>{len(entries)} runs; the latest {esc(latest.at)}.</p>{chart}"
        "<h3>columns that drifted most often</h3><table><tr><th>column</th><th>runs drifted"
        f"</th><th>share</th></tr>{rows or '<tr><td colspan=3>none</td></tr>'}</table>"
        "<h3>their drift scores over time (each column's own test: see summary.json for its "
        f"method and threshold)</h3>{columns}</section>"
    )


def _quality_section(name: str, entries: list[Entry], span: tuple[float, float]) -> str:
    values: dict[str, list[tuple[float, float]]] = defaultdict(list)
    coverage: dict[str, list[tuple[float, float]]] = defaultdict(list)
    baselines: dict[str, float] = {}
    metric = ""
    for entry in entries:
        metric = entry.figures.get("metric") or metric
        for version, figures in (entry.figures.get("versions") or {}).items():
            if figures.get("value") is not None:
                values[f"quality:{name}:{version}"].append((_time(entry), figures["value"]))
            coverage[f"coverage:{name}:{version}"].append(
                (_time(entry), figures.get("labelled_share") or 0.0)
            )
            if figures.get("baseline") is not None:
                baselines[f"test:{name}:{version}"] = figures["baseline"]
    latest = entries[-1]
    statuses = ", ".join(
        f"{esc(v)} {esc(f['status'])}" for v, f in (latest.figures.get("versions") or {}).items()
    )
    quality = _chart(
        f"{metric} per version of {name}",
        dict(values),
        kind="quality",
        span=span,
        guides=baselines,
    )
    labelled = _chart(
        f"share of rows labelled, {name}",
        dict(coverage),
        kind="coverage",
        span=span,
        percent=True,
    )
    return (
        f'<section class="check" data-check="{esc(name)}" data-kind="performance">'
        f"<h2>performance check {esc(name)}: {esc(latest.status)}</h2>"
        f"<p>{len(entries)} runs; the latest {esc(latest.at)}: {statuses or 'no version'}.</p>"
        f"<h3>{esc(metric)} per model version (dashed: its test value)</h3>{quality}"
        f"<h3>label coverage</h3>{labelled}</section>"
    )


def page(entries: list[Entry], source: str) -> str:
    """The dashboard of ``entries`` (the history read from ``source``)."""
    by_check: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        by_check[(entry.kind, entry.check)].append(entry)
    times = [_time(e) for e in entries] or [0.0]
    span = (min(times), max(times))
    sections = [
        _drift_section(name, runs, span) if kind == "drift" else _quality_section(name, runs, span)
        for (kind, name), runs in sorted(by_check.items())
    ]
    body = "".join(sections) or f"<p>No check run in {esc(source)} yet.</p>"
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>kedro-mlops monitoring</title>'
        "<style>body{font-family:sans-serif;margin:2em;max-width:720px}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:2px 8px}.legend{font-size:12px}</style>"
        f"</head><body><h1>Monitoring</h1><p>{len(entries)} check runs from {esc(source)}"
        f"{', ' + esc(entries[0].at) + ' to ' + esc(entries[-1].at) if entries else ''}.</p>"
        f"{body}</body></html>"
    )
