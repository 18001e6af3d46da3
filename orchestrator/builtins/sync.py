"""``sync#N`` resources of type rsync: copy ``src`` from the active node to its peers.

The destination on each peer is the resource's ``dst`` (default ``src``) resolved *for that
peer* (``{nodename}`` is the peer's name), so several nodes can share one machine. A peer
whose address is this machine gets a local copy; any other is reached with rsync over ssh
(``BatchMode``: keys, never a password prompt). Options: ``-a --numeric-ids --delete
--mkpath --modify-window=-1`` (a mirror, like OpenSVC's, whose changes within one second
count; none with ``reset_options``), ``--bwlimit`` from ``bwlimit``, then the resource's
``options``.

A failed sync marks the resource ``warn`` with the reason (the instance's local state); the
next slot retries.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.config.service import parse_service

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service

# --modify-window=-1: the quick check compares nanoseconds, not whole seconds (rsync >=
# 3.1.3), so a file rewritten with as many bytes in the second of the last sync is copied
BASE_OPTIONS = ("-a", "--numeric-ids", "--delete", "--mkpath", "--modify-window=-1")
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}


@dataclass
class SyncResult:
    rid: str
    ok: bool = True
    copied: list[str] = field(default_factory=list)  # peers brought up to date
    errors: list[str] = field(default_factory=list)  # one sentence per failed peer

    @property
    def reason(self) -> str | None:
        return "; ".join(self.errors) or None


def is_local(address: str) -> bool:
    host = socket.gethostname()
    return (address in LOCAL_NAMES or address.startswith("127.")
            or address in (host, host.split(".")[0], socket.getfqdn()))


def peers_of(svc: Service, rc: ResourceConfig) -> list[str]:
    """The nodes to copy to: the service's nodes (and drpnodes if targeted) except this one."""
    wanted: list[str] = []
    if "nodes" in rc["target"]:
        wanted += list(svc.config.nodes)
    if "drpnodes" in rc["target"]:
        wanted += list(svc.config.defaults["drpnodes"])
    return [n for n in dict.fromkeys(wanted) if n != svc.nodename]


def destination_for(svc: Service, rc: ResourceConfig, peer: str) -> str:
    """``dst`` (or ``src``) as the peer resolves it."""
    peer_cfg = parse_service(svc.config.text, svc.config.path, svc.name, peer,
                             svc.config.context)
    peer_rc = peer_cfg.resources[rc.rid]
    return peer_rc["dst"] or peer_rc["src"]


def rsync_argv(rc: ResourceConfig, src: str, target: str, remote: bool) -> list[str]:
    argv = ["rsync", *(() if rc.get("reset_options") else BASE_OPTIONS)]
    if remote:
        argv += ["-e", "ssh -o BatchMode=yes -o ConnectTimeout=10"]
    if rc.get("bwlimit"):
        argv.append(f"--bwlimit={rc['bwlimit']}")
    argv += list(rc["options"])
    source = src + "/" if Path(src).is_dir() and not src.endswith("/") else src
    return [*argv, source, target]


def sync_resource(svc: Service, rc: ResourceConfig, addresses: dict[str, str]) -> SyncResult:
    """Copy one sync resource to every peer; record the outcome in the instance state."""
    import shlex

    from orchestrator.errors import OrchestratorError
    from orchestrator.resources.commands import run_resource_command

    result = SyncResult(rc.rid)
    src = rc["src"]
    if not Path(src).exists():
        result.ok = False
        result.errors.append(f"source {src} does not exist on {svc.nodename}")
    else:
        for peer in peers_of(svc, rc):
            address = addresses.get(peer)
            if address is None:
                result.errors.append(f"{peer}: node is down, not synchronized")
                continue
            dst = destination_for(svc, rc, peer)
            remote = not is_local(address)
            target = f"{address}:{dst}" if remote else dst
            argv = rsync_argv(rc, src, target, remote)
            try:
                res = run_resource_command(svc, rc, shlex.join(argv), "sync",
                                           timeout=rc["timeout"])
            except OrchestratorError as exc:
                result.errors.append(f"{peer}: rsync could not run: {exc}")
                continue
            if res.exit_code == 0:
                result.copied.append(peer)
            else:
                tail = _log_tail(res.log_path)
                result.errors.append(f"{peer}: rsync exited with code {res.exit_code}"
                                     + (f": {tail}" if tail else ""))
        result.ok = not result.errors
    svc.state.update("syncs", rc.rid, {"ok": result.ok, "reason": result.reason,
                                       "peers": result.copied,
                                       "at": datetime.now(UTC).isoformat()})
    return result


def _log_tail(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def sync_all(svc: Service, addresses: dict[str, str]) -> list[SyncResult]:
    return [sync_resource(svc, rc, addresses) for rc in svc.resources("sync")
            if not rc["disable"]]
