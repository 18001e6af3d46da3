"""Keywords of ``[sync#N]`` sections (om3's sync.rsync manifest, v2's sync keywords).

``[sync#i0]``, v2's implicit sync of the service's config files that v3 files still
carry, takes these keywords too but runs nothing: the cluster store distributes configs.
"""

from __future__ import annotations

from orchestrator.config import types as t
from orchestrator.config.keyword import RESOURCE_COMMON, Keyword
from orchestrator.config.keyword import kw as _kw
from orchestrator.resources.registry import DRIVERS

TARGETS = ("nodes", "drpnodes")


def _targets(text: str) -> tuple[str, ...]:
    words = t.to_list(text)
    for word in words:
        if word == "local":
            raise ValueError("local (om3: a copy on this node) is not supported; "
                             "write nodes and/or drpnodes")
        if word not in TARGETS:
            raise ValueError(f"{word!r}: expected nodes and/or drpnodes")
    return words


_targets.choices = TARGETS  # type: ignore[attr-defined]


def _sync_triggers() -> list[Keyword]:
    """v2's sync hooks (``pre_sync_nodes`` ...): the sync_all job runs none of them."""
    rows = []
    for action in ("sync_nodes", "sync_drp", "sync_restore", "sync_resync", "sync_update"):
        for prefix in ("pre", "post", "blocking_pre", "blocking_post"):
            rows.append(_kw("sync", f"{prefix}_{action}", t.to_string, None,
                            f"v2: command run around the {action} action.",
                            noop="the sync_all job runs no sync triggers"))
    return rows


ROWS: list[Keyword] = [
    _kw("sync", "type", t.choice(*DRIVERS["sync"].types), "rsync", "Synchronization driver."),
    _kw("sync", "src", t.to_string, None, "Path copied from the active node.", required=True),
    _kw("sync", "dst", t.to_string, None, "Destination path on the peers. Default: src."),
    _kw("sync", "target", _targets, ("nodes",), "Peers to copy to: nodes, drpnodes."),
    _kw("sync", "options", t.to_shlex_list, (), "Extra rsync options."),
    _kw("sync", "reset_options", t.to_bool, False,
        "options replace the default ones (-a --numeric-ids --delete --mkpath "
        "--modify-window=-1) instead of following them."),
    _kw("sync", "bwlimit", t.to_string, None,
        "Bandwidth limit, rsync's --bwlimit (KB/s, or with a unit: 10m)."),
    _kw("sync", "dstfs", t.to_string, None,
        "Refuse to copy unless this file system is mounted on the peer.",
        noop="the peer's destination is not checked to be a mount point here"),
    _kw("sync", "snap", t.to_bool, False, "Copy from a snapshot of src.",
        noop="syncs take no snapshots here"),
    _kw("sync", "sync_max_delay", t.to_duration, None,
        "v2: alert when the last sync is older than this.", noop="no sync age alerts here"),
    _kw("sync", "schedule", t.to_schedule, None, "Schedule of this sync. Default: DEFAULT.sync_schedule."),
    _kw("sync", "timeout", t.to_duration, None, "Timeout of one synchronization."),
    *_sync_triggers(),
    *[_kw("sync", n, c, d, doc) for n, c, d, doc in RESOURCE_COMMON],
]
