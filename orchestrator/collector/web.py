"""The collector's front page: server-rendered HTML, so it works without JS and in --dump-dom.

One section per cluster: its nodes (every node that pushed anything, with the asset facts
of its last ``pushasset`` when there are some), services (each linked to its own page,
``web_service``), recent runs and compliance results. Every value is escaped; rows carry
``data-*`` attributes (``data-status`` among them: the status filter) so tests and users'
scripts can find them. ``status`` filters rows on the server too (``/?status=failed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from orchestrator.collector.store import CollectorStore
from orchestrator.collector.web_common import attrs as _attrs
from orchestrator.collector.web_common import cell as _cell
from orchestrator.collector.web_common import human_time, page, service_href, time_cell
from orchestrator.collector.web_common import table as _table

# the node table's asset columns: (header, css class, how to show it from the asset facts)
_ASSET_COLUMNS = (
    ("os", "asset-os", lambda a: a.get("os_distro") or a.get("os_name")),
    ("kernel", "asset-kernel", lambda a: a.get("os_release")),
    ("cpus", "asset-cpus", lambda a: " x ".join(str(v) for v in (a.get("cpu_count"),
                                                               a.get("cpu_model")) if v)),
    ("memory", "asset-mem", lambda a: _gib(a.get("mem_bytes"))),
    ("booted", "asset-boot", lambda a: a.get("boot_time")),
    ("addresses", "asset-ips", lambda a: " ".join(a.get("ip_addresses") or ())),
    ("version", "asset-version", lambda a: a.get("orchestrator_version")),
)
_SHOWN = {"os_distro", "os_name", "os_release", "cpu_count", "cpu_model", "mem_bytes",
          "boot_time", "ip_addresses", "orchestrator_version", "nodename"}


def _gib(value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return f"{value / 2**30:.1f} GiB"


def _asset_cells(asset: dict[str, Any]) -> str:
    cells = []
    for _, css, show in _ASSET_COLUMNS:
        try:
            value = show(asset)
        except (TypeError, ValueError, AttributeError):  # facts are free-form
            value = None
        cells.append(f'<td class="{css}">{escape(str(value)) if value else "-"}</td>')
    others = {k: v for k, v in asset.items() if k not in _SHOWN}
    keys = list(others)[:8]
    more = ", ".join(f"{k}={others[k]}" for k in keys) + (" ..." if len(others) > 8 else "")
    return "".join(cells) + _cell(more)


def _nodes(store: CollectorStore, cluster: str, now: datetime) -> list[str]:
    """Every node seen (any push, any run), with its asset facts if it pushed them."""
    assets = {n["node"]: n for n in store.nodes(cluster)}
    rows = []
    for seen in store.seen_nodes(cluster):
        name, asset = seen["node"], assets.get(seen["node"])
        facts = (_asset_cells(asset["asset"]) if asset else
                 "".join(f'<td class="{css}">-</td>' for _, css, _ in _ASSET_COLUMNS)
                 + '<td class="no-asset">no asset facts yet (pushasset)</td>')
        rows.append(f"<tr{_attrs(node=name)}>{_cell(name)}{facts}"
                    f"{time_cell(seen['last_seen'], now)}</tr>")
    return rows


def _services(store: CollectorStore, cluster: str, now: datetime,
              status: str | None) -> list[str]:
    rows = []
    for s in store.services(cluster):
        if status and s["avail"] != status:
            continue
        insts = ", ".join(f"{node}: {i['avail']}" for node, i in s["instances"].items())
        href = escape(service_href(cluster, s["service"]), quote=True)
        rows.append(f"<tr{_attrs(service=s['service'], active_node=s['active_node'] or '', avail=s['avail'], status=s['avail'])}>"
                    f'<td><a href="{href}">{escape(s["service"])}</a></td>'
                    f"{_cell(s['avail'], True)}"
                    f'<td class="active-node">{escape(s["active_node"] or "-")}</td>'
                    f"{_cell('yes' if s['frozen'] else 'no')}{_cell(insts)}"
                    f"{time_cell(s['updated_at'], now)}</tr>")
    return rows


def run_row(r: dict[str, Any], now: datetime, cluster: str, with_service: bool = True) -> str:
    """A run record's row (the front page's, and the service page's without its name)."""
    service = r.get("service")
    name = (f'<td><a href="{escape(service_href(cluster, service), quote=True)}">'
            f"{escape(service)}</a></td>" if service and with_service else "")
    return (f"<tr{_attrs(run_id=r['run_id'], service=service, status=r.get('status'), node=r.get('node') if not with_service else None)}>{name}"
            f"{_cell(r.get('rid'))}{_cell(r.get('node'))}{_cell(r.get('origin'))}"
            f"{_cell(r.get('status'), True)}{_cell(r.get('exit_code'))}"
            f"{time_cell(r.get('scheduled_at'), now)}{time_cell(r.get('started_at'), now)}"
            f"{time_cell(r.get('ended_at'), now)}"
            f"{_cell(r.get('reason'))}<td><code>{escape(r['run_id'])}</code></td>")


RUN_HEADERS = ("rid", "node", "origin", "status", "exit", "scheduled", "started", "ended",
               "reason", "run id")


def _cluster_section(store: CollectorStore, cluster: str, runs_limit: int, now: datetime,
                     status: str | None) -> str:
    cid = escape(cluster, quote=True)
    runs = [run_row(r, now, cluster) + "</tr>" for r in store.runs(cluster, limit=runs_limit)
            if not status or r.get("status") == status]
    comp = [f"<tr{_attrs(node=c['node'], module=c['module'], status=c['status'])}>{_cell(c['node'])}"
            f"{_cell(c['service'])}{_cell(c['module'])}{_cell(c['status'], True)}"
            f"{_cell(c['action'])}{time_cell(c['checked_at'] or c['updated_at'], now)}"
            f"{_cell(c['detail'])}</tr>"
            for c in store.compliance(cluster) if not status or c["status"] == status]
    return (f'<section class="cluster" data-cluster="{cid}"><h2>Cluster {escape(cluster)}</h2>'
            + _table("Nodes", ("node", *(h for h, _, _ in _ASSET_COLUMNS), "other facts",
                               "last seen"), _nodes(store, cluster, now), f"nodes-{cid}")
            + _table("Services", ("service", "avail", "active node", "frozen", "instances",
                                  "updated"), _services(store, cluster, now, status),
                     f"services-{cid}")
            + _table(f"Recent task runs (last {runs_limit})", ("service", *RUN_HEADERS), runs,
                     f"runs-{cid}")
            + _table("Compliance", ("node", "service", "module", "status", "action", "checked",
                                    "detail"), comp, f"compliance-{cid}")
            + "</section>")


def render_page(store: CollectorStore, clusters: Sequence[str], runs_limit: int = 50,
                status: str | None = None) -> str:
    """The whole page: one section per cluster (only the caller's when reads are private)."""
    now = datetime.now(UTC)
    sections = "".join(_cluster_section(store, c, runs_limit, now, status) for c in clusters)
    if not sections:
        sections = '<p class="empty" id="no-data">No cluster has pushed anything yet.</p>'
    return page("orchestrator collector", f"<p>rendered {human_time(now.isoformat(), now)}</p>"
                + sections, status)
