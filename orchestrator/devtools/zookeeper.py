"""Start and stop real ZooKeeper servers from Debian's jars, without systemd.

Why: tests and the local demo need the real thing (session expiry, ephemeral nodes,
leader elections), not a fake. One server or a 3-member ensemble on loopback, each in its
own directory with its config, data and log. Readiness is the ``srvr`` four-letter command
answering a ``Mode:`` line (``ruok`` answers before the server serves). A server that dies
or never gets ready raises :class:`ZooKeeperHarnessError` with the tail of its log.

Shell usage::

    python -m orchestrator.devtools.zookeeper start --dir DIR [--members 3]   # prints hosts
    python -m orchestrator.devtools.zookeeper stop --dir DIR
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

from orchestrator.errors import OrchestratorError

ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")
SLF4J_SIMPLE_JAR = Path("/usr/share/java/slf4j-simple.jar")
MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
PID_FILE = "zookeeper.pid"
HOSTS_FILE = "zookeeper.hosts"


class ZooKeeperHarnessError(OrchestratorError):
    """The local ZooKeeper could not be installed, started or stopped."""


# ----------------------------------------------------------------------------- helpers


def classpath(jar: Path = ZOOKEEPER_JAR) -> str:
    """The server jar, the jars its manifest names, and slf4j-simple so it logs at all."""
    if not jar.is_file():
        raise ZooKeeperHarnessError(
            f"ZooKeeper not installed ({jar} missing): apt-get install zookeeper"
        )
    with zipfile.ZipFile(jar) as zf:
        manifest = zf.read("META-INF/MANIFEST.MF").decode()
    # Manifest lines are wrapped at 72 bytes: a continuation line starts with one space.
    unfolded = manifest.replace("\r\n", "\n").replace("\n ", "")
    deps: list[str] = []
    for line in unfolded.splitlines():
        if line.startswith("Class-Path:"):
            deps = line.split(":", 1)[1].split()
    parts = [str(jar), *deps]
    if SLF4J_SIMPLE_JAR.is_file():
        parts.append(str(SLF4J_SIMPLE_JAR))
    return os.pathsep.join(parts)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports that were free a moment ago (checked again before use)."""
    ports: list[int] = []
    socks = []
    try:
        while len(ports) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def four_letter(host: str, port: int, cmd: str, timeout: float = 1.0) -> str:
    """Send a four-letter command; the answer, or "" if the server does not answer."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(cmd.encode())
            chunks = []
            while True:
                data = s.recv(4096)
                if not data:
                    break
                chunks.append(data)
        return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


def server_mode(host: str, port: int, timeout: float = 1.0) -> str | None:
    """``standalone``, ``leader`` or ``follower`` from ``srvr``; None if not serving."""
    for line in four_letter(host, port, "srvr", timeout).splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return None


# ----------------------------------------------------------------------------- one server


class ZooKeeperServer:
    """One ZooKeeper process: its directory, config, ports and log."""

    def __init__(
        self,
        base_dir: Path | str,
        client_port: int,
        *,
        myid: int | None = None,
        peers: dict[int, tuple[int, int]] | None = None,
        tick_time: int = 500,
        host: str = "127.0.0.1",
    ) -> None:
        self.dir = Path(base_dir)
        self.client_port = client_port
        self.myid = myid
        self.peers = peers or {}
        self.tick_time = tick_time
        self.host = host
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_fh = None

    @property
    def hosts(self) -> str:
        return f"{self.host}:{self.client_port}"

    @property
    def config_path(self) -> Path:
        return self.dir / "zoo.cfg"

    @property
    def log_path(self) -> Path:
        return self.dir / "zookeeper.log"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def write_config(self) -> None:
        data = self.dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        lines = [
            f"tickTime={self.tick_time}",
            "initLimit=10",
            "syncLimit=5",
            f"dataDir={data}",
            f"clientPort={self.client_port}",
            f"clientPortAddress={self.host}",
            "admin.enableServer=false",
            "4lw.commands.whitelist=*",
            "maxClientCnxns=0",
        ]
        if self.peers:
            lines += [
                f"server.{n}={self.host}:{quorum}:{election}"
                for n, (quorum, election) in sorted(self.peers.items())
            ]
            (data / "myid").write_text(f"{self.myid}\n")
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self, *, wait: bool = True, timeout: float = 30.0, detach: bool = False) -> None:
        """Launch the JVM. ``detach`` lets it outlive this Python process (shell usage)."""
        cp = classpath()
        busy = [p for p in self._ports() if not port_is_free(p, self.host)]
        if busy:
            raise ZooKeeperHarnessError(f"port(s) {busy} already in use on {self.host}")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        self._log_fh = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child
        cmd = ["java", "-Xmx256m", "-XX:+UseSerialGC", "-cp", cp, MAIN_CLASS, str(self.config_path)]
        env = dict(os.environ, ZOO_LOG_DIR=str(self.dir))
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        if not detach:
            _LIVE.add(self)
        if wait:
            self.wait_ready(timeout)

    def _ports(self) -> list[int]:
        ports = [self.client_port]
        if self.myid is not None and self.myid in self.peers:
            ports += list(self.peers[self.myid])
        return ports

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def mode(self, timeout: float = 1.0) -> str | None:
        return server_mode(self.host, self.client_port, timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise ZooKeeperHarnessError(
                    f"ZooKeeper on port {self.client_port} exited "
                    f"(code {self.proc.returncode if self.proc else None})\n{self.log_tail()}"
                )
            if self.mode(timeout=0.5):
                return
            time.sleep(0.1)
        raise ZooKeeperHarnessError(
            f"ZooKeeper on port {self.client_port} not ready after {timeout:.0f}s\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def signal(self, sig: int) -> None:
        if self.alive():
            assert self.proc is not None
            os.kill(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL: a crash, no goodbye to clients or peers."""
        self.signal(signal.SIGKILL)
        self._reap()

    def pause(self) -> None:
        """SIGSTOP: a frozen server (sockets stay open, nothing answers)."""
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (after SIGCONT in case it was paused), then SIGKILL if it lingers."""
        if self.alive():
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                assert self.proc is not None
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap()

    def _reap(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        _LIVE.discard(self)

    def restart(self, timeout: float = 30.0, wait: bool = True) -> None:
        self.stop()
        self.start(wait=wait, timeout=timeout)


# ----------------------------------------------------------------------------- ensemble


class ZooKeeperEnsemble:
    """``size`` servers on loopback forming one quorum (``size == 1``: standalone)."""

    def __init__(self, base_dir: Path | str, size: int = 3, *, tick_time: int = 500) -> None:
        self.dir = Path(base_dir)
        ports = free_ports(3 * size)
        peers = {n: (ports[3 * (n - 1) + 1], ports[3 * (n - 1) + 2]) for n in range(1, size + 1)}
        self.members = [
            ZooKeeperServer(
                self.dir / (f"member{n}" if size > 1 else "standalone"),
                ports[3 * (n - 1)],
                myid=n if size > 1 else None,
                peers=peers if size > 1 else None,
                tick_time=tick_time,
            )
            for n in range(1, size + 1)
        ]

    @property
    def hosts(self) -> str:
        return ",".join(m.hosts for m in self.members)

    def start(self, timeout: float = 60.0, detach: bool = False) -> None:
        try:
            for m in self.members:
                m.start(wait=False, detach=detach)
            deadline = time.monotonic() + timeout
            for m in self.members:
                m.wait_ready(max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for m in self.members:
            m.stop()

    def leader(self, timeout: float = 10.0) -> ZooKeeperServer:
        """The member whose ``srvr`` says ``Mode: leader`` (or the standalone one)."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.members:
                if m.alive() and m.mode() in ("leader", "standalone"):
                    return m
            if time.monotonic() > deadline:
                raise ZooKeeperHarnessError("no ZooKeeper leader found\n" + self.log_tails())
            time.sleep(0.1)

    def followers(self) -> list[ZooKeeperServer]:
        return [m for m in self.members if m.alive() and m.mode() == "follower"]

    def log_tails(self, lines: int = 30) -> str:
        return "\n".join(f"--- {m.dir.name}\n{m.log_tail(lines)}" for m in self.members)

    def __enter__(self) -> ZooKeeperEnsemble:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(base_dir: Path | str, *, tick_time: int = 500) -> ZooKeeperServer:
    """A standalone server on a free port, ready to serve."""
    server = ZooKeeperServer(base_dir, free_ports(1)[0], tick_time=tick_time)
    server.start()
    return server


# Servers started attached to this process die with it, even if a test forgets them.
_LIVE: set[ZooKeeperServer] = set()


@atexit.register
def _kill_leftovers() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.kill()


# ----------------------------------------------------------------------------- CLI


def _read_pids(directory: Path) -> list[int]:
    try:
        return [int(x) for x in (directory / PID_FILE).read_text().split()]
    except (OSError, ValueError):
        return []


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cli_start(directory: Path, members: int, tick_time: int) -> str:
    if any(_pid_alive(p) for p in _read_pids(directory)):
        raise ZooKeeperHarnessError(f"ZooKeeper already running for {directory} (stop it first)")
    directory.mkdir(parents=True, exist_ok=True)
    ensemble = ZooKeeperEnsemble(directory, members, tick_time=tick_time)
    ensemble.start(detach=True)
    (directory / PID_FILE).write_text("".join(f"{m.pid}\n" for m in ensemble.members))
    (directory / HOSTS_FILE).write_text(ensemble.hosts + "\n")
    return ensemble.hosts


def cli_stop(directory: Path, timeout: float = 10.0) -> list[int]:
    pids = [p for p in _read_pids(directory) if _pid_alive(p)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGTERM)
    _wait_gone(pids, timeout)
    for pid in pids:
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    _wait_gone(pids, 5)
    with contextlib.suppress(FileNotFoundError):
        (directory / PID_FILE).unlink()
    return pids


def _wait_gone(pids: Iterable[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_pid_alive(p) for p in pids):
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestrator.devtools.zookeeper",
        description="Run a local ZooKeeper (Debian's zookeeper package) for tests and demos.",
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_start = sub.add_parser(
        "start", help="start a server or an ensemble; print the connect string"
    )
    p_start.add_argument("--dir", required=True, type=Path)
    p_start.add_argument("--members", type=int, default=1)
    p_start.add_argument("--tick-time", type=int, default=500)
    p_stop = sub.add_parser("stop", help="stop what 'start --dir DIR' started")
    p_stop.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "start":
            if args.members < 1:
                parser.error("--members must be >= 1")
            print(cli_start(args.dir.resolve(), args.members, args.tick_time))
        else:
            cli_stop(args.dir.resolve())
    except OrchestratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
