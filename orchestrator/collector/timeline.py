"""A service's runs as a picture: server-rendered SVG, one lane per node, time left to right.

Each run is a mark in the lane of the node that ran it, coloured by its status: a bar from
its start to its end (at least a few pixels wide), or a diamond at its slot for a run that
never started (skipped, refused, missed). A relocation, where the run after another one ran
on a different node, is a dashed line from the end of the one to the start of the other.
Every mark carries ``data-run-id``, ``data-node`` and ``data-status`` and a ``<title>``
(a browser shows it on hover). Pure: the caller gives the runs and the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any

from orchestrator.collector.web_common import parse_time

COLOURS = {"ok": "#2e9d47", "failed": "#d0342c", "timeout": "#d0342c",
           "interrupted": "#e08a1e", "aborted": "#e08a1e", "running": "#3a78c9",
           "skipped": "#9a9a9a", "refused": "#9a9a9a", "missed": "#b07cc6"}
WIDTH, LABEL, LANE, TOP, AXIS = 960, 110, 30, 8, 26


def _times(run: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime] | None:
    start = parse_time(run.get("started_at"))
    end = parse_time(run.get("ended_at"))
    if start is not None:
        return start, end or now
    at = parse_time(run.get("scheduled_at")) or end
    return (at, at) if at is not None else None


def _label(t: datetime, span: timedelta) -> str:
    local = t.astimezone()
    return f"{local:%m-%d %H:%M}" if span > timedelta(days=1) else f"{local:%H:%M:%S}"


def render_timeline(runs: Iterable[Mapping[str, Any]], nodes: Sequence[str],
                    now: datetime) -> str:
    """The SVG element (inline in the page), or a note when there is no run to draw."""
    placed = [(r, t) for r in runs if (t := _times(r, now)) is not None]
    lanes = list(dict.fromkeys([*nodes, *sorted({str(r.get("node")) for r, _ in placed})]))
    if not placed or not lanes:
        return '<p class="empty" id="timeline-empty">no run to draw yet</p>'
    t0 = min(t[0] for _, t in placed)
    t1 = max(max(t[1] for _, t in placed), t0 + timedelta(seconds=1))
    span = t1 - t0
    t0, t1 = t0 - span * 0.02, t1 + span * 0.02
    scale = (WIDTH - LABEL - 10) / (t1 - t0).total_seconds()

    def x(t: datetime) -> float:
        return LABEL + (t - t0).total_seconds() * scale

    def y(node: str) -> float:
        return TOP + lanes.index(node) * LANE + LANE / 2

    height = TOP + len(lanes) * LANE + AXIS
    parts = [f'<svg class="timeline" id="timeline" xmlns="http://www.w3.org/2000/svg" '
             f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="runs per node over time">']
    for node in lanes:
        parts.append(f'<g class="lane" data-node="{escape(node, quote=True)}">'
                     f'<rect x="0" y="{y(node) - LANE / 2:.1f}" width="{WIDTH}" height="{LANE}" '
                     f'fill="{"#fafafa" if lanes.index(node) % 2 else "#fff"}"/>'
                     f'<text x="6" y="{y(node) + 4:.1f}" font-size="12">{escape(node)}</text></g>')
    for i in range(5):  # the time axis
        t = t0 + (t1 - t0) * (i / 4)
        xi = x(t)
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(f'<line x1="{xi:.1f}" y1="{TOP}" x2="{xi:.1f}" y2="{height - AXIS + 4}" '
                     f'stroke="#eee"/><text class="tick" x="{xi:.1f}" y="{height - 8}" '
                     f'font-size="11" text-anchor="{anchor}">{_label(t, span)}</text>')
    ran = sorted(((r, t) for r, t in placed if r.get("started_at")), key=lambda p: p[1][0])
    for (a, ta), (b, tb) in zip(ran, ran[1:], strict=False):
        if a.get("node") != b.get("node"):
            parts.append(f'<line class="relocation" data-from="{escape(str(a.get("node")), quote=True)}" '
                         f'data-to="{escape(str(b.get("node")), quote=True)}" '
                         f'x1="{x(ta[1]):.1f}" y1="{y(str(a.get("node"))):.1f}" '
                         f'x2="{x(tb[0]):.1f}" y2="{y(str(b.get("node"))):.1f}" '
                         f'stroke="#555" stroke-dasharray="4 3"><title>relocated from '
                         f'{escape(str(a.get("node")))} to {escape(str(b.get("node")))}'
                         f'</title></line>')
    for run, (start, end) in placed:
        node, status = str(run.get("node")), str(run.get("status"))
        colour = COLOURS.get(status, "#555")
        data = (f'class="mark st-{escape(status, quote=True)}" '
                f'data-run-id="{escape(str(run.get("run_id")), quote=True)}" '
                f'data-node="{escape(node, quote=True)}" '
                f'data-status="{escape(status, quote=True)}" fill="{colour}"')
        title = (f"<title>{escape(str(run.get('rid')))} on {escape(node)}: {escape(status)}"
                 f"{' - ' + escape(str(run['reason'])) if run.get('reason') else ''}"
                 f" ({escape(start.astimezone().isoformat(timespec='seconds'))})</title>")
        yc = y(node)
        if run.get("started_at"):
            w = max(4.0, x(end) - x(start))
            parts.append(f'<rect {data} x="{x(start):.1f}" y="{yc - 8:.1f}" width="{w:.1f}" '
                         f'height="16" rx="2">{title}</rect>')
        else:
            xc = x(start)
            parts.append(f'<path {data} d="M{xc:.1f},{yc - 7:.1f} l6,7 l-6,7 l-6,-7 z">'
                         f"{title}</path>")
    parts.append("</svg>")
    return "".join(parts)
