"""The collector's web page: server-rendered HTML, so it works without JS and in --dump-dom.

The little JS there is only filters rows and reloads the page every 15 s. Every value is
escaped; rows carry ``data-*`` attributes so tests (and users' scripts) can find them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from orchestrator.collector.store import CollectorStore

_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1em;color:#555}
table{border-collapse:collapse;margin:.4em 0 1em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.empty{color:#888;font-style:italic}
.st-up,.st-ok{background:#d7f5d7}.st-down,.st-failed,.st-nok,.st-error,.st-timeout{background:#f8d4d4}
.st-warn,.st-interrupted,.st-missed{background:#fbedc4}
code{font-size:.9em}#filter{margin-bottom:.5em}
"""

_SCRIPT = """
(function(){
  var f=document.getElementById('filter');
  function apply(){var q=f.value.toLowerCase();
    document.querySelectorAll('tbody tr').forEach(function(tr){
      tr.style.display=tr.textContent.toLowerCase().indexOf(q)>=0?'':'none';});}
  f.addEventListener('input',apply);
  document.getElementById('js-state').textContent='live (reloads every 15 s)';
  setTimeout(function(){if(!f.value){location.reload();}},15000);
})();
"""


def _cell(value: Any, status: bool = False) -> str:
    if value is None or value == "":
        return "<td>-</td>"
    text = escape(str(value))
    cls = f' class="st-{escape(str(value)).replace(" ", "-").replace("/", "")}"' if status else ""
    return f"<td{cls}>{text}</td>"


def _table(caption: str, headers: Sequence[str], rows: Iterable[str], table_id: str) -> str:
    body = "".join(rows)
    if not body:
        return f'<h3>{escape(caption)}</h3><p class="empty" id="{table_id}">none</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return (f'<h3>{escape(caption)}</h3><table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _attrs(**attrs: Any) -> str:
    return "".join(f' data-{k.replace("_", "-")}="{escape(str(v), quote=True)}"'
                   for k, v in attrs.items() if v is not None)


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


def _cluster_section(store: CollectorStore, cluster: str, runs_limit: int) -> str:
    cid = escape(cluster, quote=True)
    nodes = [f"<tr{_attrs(node=n['node'])}>{_cell(n['node'])}"
             f"{_asset_cells(n['asset'])}{_cell(n['updated_at'])}</tr>"
             for n in store.nodes(cluster)]
    services = []
    for s in store.services(cluster):
        insts = ", ".join(f"{node}: {i['avail']}" for node, i in s["instances"].items())
        services.append(f"<tr{_attrs(service=s['service'], active_node=s['active_node'] or '', avail=s['avail'])}>"
                        f"{_cell(s['service'])}{_cell(s['avail'], True)}"
                        f'<td class="active-node">{escape(s["active_node"] or "-")}</td>'
                        f"{_cell('yes' if s['frozen'] else 'no')}{_cell(insts)}"
                        f"{_cell(s['updated_at'])}</tr>")
    runs = [f"<tr{_attrs(run_id=r['run_id'], service=r.get('service'))}>{_cell(r.get('service'))}"
            f"{_cell(r.get('rid'))}{_cell(r.get('node'))}{_cell(r.get('origin'))}"
            f"{_cell(r.get('status'), True)}{_cell(r.get('exit_code'))}"
            f"{_cell(r.get('scheduled_at'))}{_cell(r.get('started_at'))}{_cell(r.get('ended_at'))}"
            f"{_cell(r.get('reason'))}<td><code>{escape(r['run_id'])}</code></td></tr>"
            for r in store.runs(cluster, limit=runs_limit)]
    comp = [f"<tr{_attrs(node=c['node'], module=c['module'])}>{_cell(c['node'])}"
            f"{_cell(c['service'])}{_cell(c['module'])}{_cell(c['status'], True)}"
            f"{_cell(c['action'])}{_cell(c['checked_at'] or c['updated_at'])}{_cell(c['detail'])}</tr>"
            for c in store.compliance(cluster)]
    return (f'<section class="cluster" data-cluster="{cid}"><h2>Cluster {escape(cluster)}</h2>'
            + _table("Nodes", ("node", *(h for h, _, _ in _ASSET_COLUMNS), "other facts",
                               "updated"), nodes, f"nodes-{cid}")
            + _table("Services", ("service", "avail", "active node", "frozen", "instances",
                                  "updated"), services, f"services-{cid}")
            + _table(f"Recent task runs (last {runs_limit})",
                     ("service", "rid", "node", "origin", "status", "exit", "scheduled",
                      "started", "ended", "reason", "run id"), runs, f"runs-{cid}")
            + _table("Compliance", ("node", "service", "module", "status", "action", "checked",
                                    "detail"), comp, f"compliance-{cid}")
            + "</section>")


def render_page(store: CollectorStore, clusters: Sequence[str], runs_limit: int = 50) -> str:
    """The whole page: one section per cluster (only the caller's when reads are private)."""
    sections = "".join(_cluster_section(store, c, runs_limit) for c in clusters)
    if not sections:
        sections = '<p class="empty" id="no-data">No cluster has pushed anything yet.</p>'
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>orchestrator collector</title>"
            f"<style>{_STYLE}</style></head><body><h1>orchestrator collector</h1>"
            '<input id="filter" type="search" placeholder="filter rows"> '
            '<span id="js-state">static</span>'
            f"{sections}<script>{_SCRIPT}</script></body></html>")
