"""Where things live on a node, all under ``ORCHESTRATOR_ROOT`` so several nodes share a machine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple


class NodePaths(NamedTuple):
    """The file layout of one node (see shared/spec/interface.md, "Files and environment")."""

    root: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> NodePaths:
        env = os.environ if environ is None else environ
        return cls(Path(env.get("ORCHESTRATOR_ROOT") or "/"))

    @property
    def etc(self) -> Path:
        return self.root / "etc" / "orchestrator"

    @property
    def node_conf(self) -> Path:
        return self.etc / "node.conf"

    @property
    def services_dir(self) -> Path:
        return self.etc / "services"

    def service_conf(self, svcname: str) -> Path:
        return self.services_dir / f"{svcname}.conf"

    @property
    def var(self) -> Path:
        return self.root / "var" / "lib" / "orchestrator"

    @property
    def log_dir(self) -> Path:
        return self.root / "var" / "log" / "orchestrator"

    def service_var(self, svcname: str) -> Path:
        return self.var / "services" / svcname


def default_hostname() -> str:
    """The short host name, OpenSVC's default node name."""
    return os.uname().nodename.split(".")[0]  # gethostname(), without importing socket
