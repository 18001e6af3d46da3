"""What ``svcmgr run`` imports (``-X importtime``; no timing asserted): none of the heavy
libraries only other processes need (structlog, prometheus_client, kazoo, argcomplete), no
dataclasses (its import was ~6 ms of a run, each class ~0.3 ms), and of the keyword tables
only those of the sections the service has (bench/README.md, CLI start-up)."""

from __future__ import annotations

import sys

from e2e_support import SVCMGR, Node


def test_svcmgr_run_imports_no_heavy_library(node: Node) -> None:
    node.write("svc", "[DEFAULT]\nnodes = n1\n[task#0]\ncommand = /bin/true\n")
    res = node.run([sys.executable, "-X", "importtime", str(SVCMGR), "-s", "svc", "run"])
    assert res.rc == 0, res.err
    imported = {line.rsplit("|", 1)[1].strip() for line in res.err.splitlines()
                if line.startswith("import time:")}
    assert "orchestrator.taskrun" in imported  # the run's own path was measured
    for heavy in ("structlog", "prometheus_client", "kazoo", "argcomplete", "asyncio",
                  "dataclasses", "inspect", "orchestrator.config.tables.app",
                  "orchestrator.config.tables.fs", "orchestrator.execution.container_executor"):
        assert heavy not in imported, heavy
