"""One service's page, ``/services/<cluster>/<service>``: where it runs and ran.

* the timeline (``timeline.py``): its runs, one lane per node, relocations drawn;
* its instances, as each node last pushed them;
* its last runs, with the tail of their output (nodes push it with the record);
* its schedule: every ``*schedule`` keyword of the config the nodes pushed, with each task's
  last run and the next slot by the collector's clock (the schedule math is pure,
  ``orchestrator.schedule``; the nodes' own clocks and zones decide in the end).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from orchestrator.collector.store import CollectorStore
from orchestrator.collector.timeline import render_timeline
from orchestrator.collector.web import RUN_HEADERS, run_row
from orchestrator.collector.web_common import attrs, cell, page, table, time_cell

TIMELINE_RUNS = 200


def schedule_keywords(text: str) -> list[tuple[str, str, str]]:
    """(section, keyword, definition) of every ``*schedule`` keyword in a service config's
    text (scoped ones, ``schedule@n1``, too), read by the nodes' own INI reader (a value
    continued on indented lines is one value)."""
    from orchestrator.config.ini import parse_ini

    sections, _ = parse_ini(text)
    return [(name, key, value.strip()) for name, section in sections.items()
            for key, value in section.options.items()
            if key.split("@")[0].endswith("schedule")]


def _next(definition: str, last: datetime | None, now: datetime) -> str | None:
    from orchestrator.schedule import ScheduleError, parse

    try:
        nxt = parse(definition).next_run(now.astimezone(), last)
    except (ScheduleError, ValueError, TypeError):
        return None
    return nxt.isoformat() if nxt else None


def _schedule_rows(config: str | None, runs: list[dict[str, Any]], now: datetime) -> list[str]:
    if not config:
        return []
    last: dict[str, dict[str, Any]] = {}
    for r in runs:  # newest first: the first seen per job is its last run
        if r.get("started_at"):
            last.setdefault(str(r.get("rid")), r)
    rows = []
    for section, keyword, definition in schedule_keywords(config):
        job = section if section != "DEFAULT" else keyword.removesuffix("_schedule")
        run = last.get(job)
        started = datetime.fromisoformat(run["started_at"]) if run else None
        rows.append(f"<tr{attrs(job=job, status=run.get('status') if run else None)}>"
                    f"{cell(job)}{cell(f'{section}.{keyword}')}<td><code>{escape(definition)}"
                    f"</code></td>{time_cell(run and run['started_at'], now)}"
                    f"{cell(run and run.get('status'), True)}"
                    f"{time_cell(_next(definition, started, now), now)}</tr>")
    return rows


def _resources(resources: dict[str, Any]) -> str:
    return ", ".join(f"{rid}: {r.get('status', '?') if isinstance(r, dict) else r}"
                     for rid, r in sorted(resources.items()))


def _output_cell(store: CollectorStore, cluster: str, run: dict[str, Any]) -> str:
    if not run.get("started_at"):
        return "<td>-</td>"
    found = store.run_output(cluster, run["run_id"])
    if found is None:
        return '<td class="empty">not pushed</td>'
    more = "(last 64 KiB) " if found["truncated"] else ""
    return (f'<td>{more}<pre class="output" data-run-id="{escape(run["run_id"], quote=True)}">'
            f"{escape(found['output']) or '(no output)'}</pre></td>")


def render_service_page(store: CollectorStore, cluster: str, service: str, limit: int = 50,
                        status: str | None = None) -> str | None:
    """The page, or None when the collector knows nothing of that service."""
    now = datetime.now(UTC)
    instances = store.instances(cluster, service)
    runs = store.runs(cluster, service, limit=max(limit, TIMELINE_RUNS))
    configs = store.configs(cluster, service)
    if not (instances or runs or configs):
        return None
    view = next((s for s in store.services(cluster) if s["service"] == service), None)
    nodes = sorted({i["node"] for i in instances})
    head = (f'<p><a href="/">all clusters</a> · cluster <b>{escape(cluster)}</b> · '
            f'avail <span class="st-{escape(view["avail"] if view else "undef")}" id="avail">'
            f'{escape(view["avail"] if view else "undef")}</span> · active node '
            f'<b id="active-node">{escape((view or {}).get("active_node") or "-")}</b>'
            f'{" · <b>frozen</b>" if view and view["frozen"] else ""}</p>')
    inst_rows = [f"<tr{attrs(node=i['node'], status=i['avail'])}>{cell(i['node'])}"
                 f"{cell(i['avail'], True)}{cell(i['overall'], True)}"
                 f"{cell('yes' if i['frozen'] else 'no')}"
                 f"{cell(_resources(i['resources']))}"
                 f"{time_cell(i['updated_at'], now)}</tr>" for i in instances]
    shown = [r for r in runs[:limit] if not status or r.get("status") == status]
    run_rows = [run_row(r, now, cluster, with_service=False)
                + _output_cell(store, cluster, r) + "</tr>" for r in shown]
    newest = max(configs, key=lambda c: c["updated_at"]) if configs else None
    body = (head + f"<h2>Timeline (last {len(runs)} runs)</h2>"
            + render_timeline(runs, nodes, now)
            + table("Instances", ("node", "avail", "overall", "frozen", "resources",
                                  "updated"), inst_rows, "instances")
            + table(f"Last runs (last {limit})", (*RUN_HEADERS, "output"), run_rows, "runs")
            + table("Schedule" + (f" (config pushed by {newest['node']} at "
                                  f"{newest['updated_at']})" if newest else ""),
                    ("job", "keyword", "definition", "last run", "last status",
                     "next (collector's clock)"),
                    _schedule_rows(newest["text"] if newest else None, runs, now), "schedule"))
    return page(f"service {service}", body, status)
