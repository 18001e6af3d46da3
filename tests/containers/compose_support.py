"""The compose cluster of a test: deploy/compose.sh with a project, a subnet and a run
directory of the test's own, and what the test does to it from outside.

* ``up()``/``down()``/``status()``/``exec()`` are deploy/compose.sh's commands, as a user
  runs them (compose.sh starts podman's API on the test's run directory and stops it).
* ``cut(service)``/``heal(service)`` take the container's link down and up again inside its
  network namespace (``nsenter -n ip link set eth0 down``): a real cut, the container and
  its processes live on, and nothing reaches it or leaves it on the cluster's network.
* ``leftovers()``: containers, networks and volumes of the project still there, and the API
  process if it still runs; ``force_clean()`` removes them (a failed ``down``).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from container_support import REPO, engine_env, podman

COMPOSE_SH = REPO / "deploy" / "compose.sh"
PROJECT_LABEL = "com.docker.compose.project"


@dataclass
class ComposeCluster:
    run_dir: Path
    subnet: str
    collector_port: int
    project: str = field(default_factory=lambda: f"oc{uuid.uuid4().hex[:8]}")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
        return {**env, **engine_env(), "COMPOSE_PROJECT_NAME": self.project,
                "ORCHESTRATOR_SUBNET": self.subnet,
                "ORCHESTRATOR_COLLECTOR_PORT": str(self.collector_port),
                "ORCHESTRATOR_COMPOSE_RUN": str(self.run_dir),
                "ORCHESTRATOR_SECRET": "containers-test"}

    def compose_sh(self, *args: str, timeout: float = 120, stdin: str = "",
                   check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["bash", str(COMPOSE_SH), *args], cwd=REPO, env=self.env(),
                              capture_output=True, text=True, timeout=timeout, input=stdin)
        if check:
            assert proc.returncode == 0, (f"compose.sh {' '.join(args)}: exit {proc.returncode}"
                                          f"\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def up(self) -> None:
        self.compose_sh("up", timeout=900)  # the images may be built first

    def down(self) -> subprocess.CompletedProcess[str]:
        return self.compose_sh("down", timeout=300, check=False)

    def status(self, node: str = "n1") -> dict[str, Any]:
        return json.loads(self.compose_sh("status", node, timeout=60).stdout)

    def exec(self, node: str, *argv: str, stdin: str = "",
             check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.compose_sh("exec", node, *argv, stdin=stdin, check=check, timeout=60)

    def sh(self, node: str, script: str) -> str:
        """A shell script in ``node``, through podman directly (works while it is cut off)."""
        proc = podman("exec", self.container(node), "sh", "-c", script)
        assert proc.returncode == 0, f"{script} in {node}: {proc.stderr}"
        return proc.stdout

    def container(self, service: str) -> str:
        proc = podman("ps", "-a", "--filter", f"label={PROJECT_LABEL}={self.project}",
                      "--filter", f"label=com.docker.compose.service={service}",
                      "--format", "{{.Names}}")
        names = proc.stdout.split()
        assert len(names) == 1, f"{service}: containers {names}"
        return names[0]

    def _netns(self, service: str) -> str:
        pid = podman("inspect", "--format", "{{.State.Pid}}", self.container(service))
        assert pid.returncode == 0 and int(pid.stdout) > 0, pid.stderr
        return pid.stdout.strip()

    def _link(self, service: str, state: str) -> None:
        proc = subprocess.run(["nsenter", "-t", self._netns(service), "-n", "ip", "link", "set",
                               "eth0", state], capture_output=True, text=True, timeout=10)
        assert proc.returncode == 0, proc.stderr

    def cut(self, service: str) -> None:
        self._link(service, "down")

    def heal(self, service: str) -> None:
        self._link(service, "up")

    def logs(self, service: str) -> str:
        proc = podman("logs", self.container(service))
        return proc.stdout + proc.stderr

    def leftovers(self) -> dict[str, list[str]]:
        label = f"label={PROJECT_LABEL}={self.project}"
        found = {
            "containers": podman("ps", "-a", "--filter", label, "--format",
                                 "{{.Names}}").stdout.split(),
            "networks": [n for n in podman("network", "ls", "--format", "{{.Name}}").stdout.split()
                         if n.startswith(f"{self.project}_")],
            "volumes": podman("volume", "ls", "--filter", label, "--format",
                              "{{.Name}}").stdout.split(),
        }
        pid_file = self.run_dir / "podman.pid"
        if pid_file.exists() and Path(f"/proc/{pid_file.read_text().strip()}").exists():
            found["api"] = [pid_file.read_text().strip()]
        return {k: v for k, v in found.items() if v}

    def force_clean(self) -> None:
        """What a failed ``down`` left: removed through podman itself."""
        left = self.leftovers()
        for name in left.get("containers", []):
            podman("rm", "-f", "-t", "0", name)
        for name in left.get("networks", []):
            podman("network", "rm", "-f", name)
        for name in left.get("volumes", []):
            podman("volume", "rm", "-f", name)
        for pid in left.get("api", []):
            subprocess.run(["kill", pid], capture_output=True)
