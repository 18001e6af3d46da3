"""Keywords of ``[sync#N]`` sections."""

from __future__ import annotations

from orchestrator.config import types as t
from orchestrator.config.keyword import RESOURCE_COMMON, Keyword
from orchestrator.config.keyword import kw as _kw
from orchestrator.resources.registry import DRIVERS

ROWS: list[Keyword] = [
    _kw("sync", "type", t.choice(*DRIVERS["sync"].types), "rsync", "Synchronization driver."),
    _kw("sync", "src", t.to_string, None, "Path copied from the active node.", required=True),
    _kw("sync", "dst", t.to_string, None, "Destination path on the peers. Default: src."),
    _kw("sync", "target", t.to_list, ("nodes",), "Peers to copy to: nodes, drpnodes."),
    _kw("sync", "options", t.to_shlex_list, (), "Extra rsync options."),
    _kw("sync", "schedule", t.to_schedule, None, "Schedule of this sync. Default: DEFAULT.sync_schedule."),
    _kw("sync", "timeout", t.to_duration, None, "Timeout of one synchronization."),
    *[_kw("sync", n, c, d, doc) for n, c, d, doc in RESOURCE_COMMON],
]
