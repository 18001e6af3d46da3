"""The web page as a browser renders it: headless Chromium (Debian's ``chromium``)."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from collector_support import TOKENS, CollectorProcess

from orchestrator.builtins.asset import asset_facts
from orchestrator.builtins.push import push_asset
from orchestrator.config.node import load_node_config
from orchestrator.devtools import chromium
from orchestrator.paths import NodePaths
from orchestrator.push import PushClient


class _Rows(HTMLParser):
    """Collects the data-* attributes of table rows, and the element text by id."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.ids: dict[str, str] = {}
        self._id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and any(k.startswith("data-") for k in a):
            self.rows.append(a)
        self._id = a.get("id")

    def handle_data(self, data: str) -> None:
        if self._id:
            self.ids[self._id] = self.ids.get(self._id, "") + data


def dump_dom(url: str, profile: Path) -> str:
    try:
        return chromium.dump_dom(url, profile)
    except chromium.ChromiumMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def test_page_shows_nodes_with_assets_and_services_with_active_nodes(collector: CollectorProcess,
                                               tmp_path: Path) -> None:
    n1 = PushClient(collector.url, TOKENS["alpha"], "alpha", tmp_path / "q1", node="node-1")
    n2 = PushClient(collector.url, TOKENS["alpha"], "alpha", tmp_path / "q2", node="node-2")
    facts = asset_facts(load_node_config(NodePaths(tmp_path / "no-root")))  # this machine's
    push_asset(n1, "node-1", facts)
    n2.push("nodes", [{"asset": {"os_name": "Linux", "rack": "r7"}}])
    n1.push("status", [{"service": "web", "avail": "up"}, {"service": "db", "avail": "down"}])
    n2.push("status", [{"service": "web", "avail": "down"}, {"service": "db", "avail": "up"}])
    n2.push("runs", [{"run_id": "20260101T000000000000Z-0000aa", "service": "db",
                      "rid": "task#backup", "status": "failed", "exit_code": 3,
                      "origin": "scheduler"}])
    n1.push("compliance", [{"module": "ntp", "status": "nok",
                            "detail": "<script>alert(1)</script>"}])

    html = dump_dom(collector.url + "/", tmp_path / "profile")
    page = _Rows()
    page.feed(html)
    services = {r["data-service"]: r for r in page.rows if "data-active-node" in r}
    assert {s: (r["data-active-node"], r["data-avail"]) for s, r in services.items()} == {
        "db": ("node-2", "up"), "web": ("node-1", "up")}
    assert re.search(r'data-service="web"[^>]*>.*?class="active-node">node-1<', html)
    assert {r["data-node"] for r in page.rows if "data-module" not in r and "data-node" in r} \
        == {"node-1", "node-2"}
    assert [r["data-run-id"] for r in page.rows if "data-run-id" in r] == [
        "20260101T000000000000Z-0000aa"]
    assert "task#backup" in html
    assert "&lt;script&gt;alert(1)" in html  # pushed text is escaped, never markup
    assert page.ids.get("js-state") == "live (reloads every 15 s)"  # the page's JS ran

    # the nodes table: the asset facts pushasset sends, in their columns
    row1 = re.search(r'<tr data-node="node-1">(.*?)</tr>', html).group(1)
    cells = dict(re.findall(r'<td class="asset-([a-z]+)">([^<]*)</td>', row1))
    assert cells["os"] == escape(facts["os_distro"]) and cells["kernel"] == facts["os_release"]
    assert cells["cpus"].startswith(f"{facts['cpu_count']} x ")
    assert cells["mem"] == f"{facts['mem_bytes'] / 2**30:.1f} GiB"
    assert cells["boot"] == facts["boot_time"] and cells["version"] == facts["orchestrator_version"]
    assert cells["ips"] == " ".join(facts["ip_addresses"])
    row2 = re.search(r'<tr data-node="node-2">(.*?)</tr>', html).group(1)
    assert '<td class="asset-os">Linux</td>' in row2 and "rack=r7" in row2
    assert '<td class="asset-mem">-</td>' in row2  # a fact not pushed shows as -
