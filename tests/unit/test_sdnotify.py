"""sd_notify against a real AF_UNIX datagram socket, as systemd listens on it."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.daemon import sdnotify


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, dict[str, str]]]:
    """A datagram socket bound in tmp_path, and the environment systemd would give us."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    try:
        yield sock, {"NOTIFY_SOCKET": str(path)}
    finally:
        sock.close()


def test_helpers_send_their_datagram(listener: tuple[socket.socket, dict[str, str]]) -> None:
    sock, env = listener
    assert sdnotify.ready(env)
    assert sock.recv(4096) == b"READY=1"
    assert sdnotify.watchdog(env)
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert sdnotify.stopping(env)
    assert sock.recv(4096) == b"STOPPING=1"
    assert sdnotify.status("3 services\nstarted", env)
    assert sock.recv(4096) == b"STATUS=3 services started"  # one line: \n starts a new key
    assert sdnotify.notify("READY=1\nSTATUS=up", env)
    assert sock.recv(4096) == b"READY=1\nSTATUS=up"


def test_abstract_socket() -> None:
    name = f"orchestrator-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert sdnotify.watchdog({"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_uses_os_environ_by_default(listener: tuple[socket.socket, dict[str, str]],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    sock, env = listener
    monkeypatch.setenv("NOTIFY_SOCKET", env["NOTIFY_SOCKET"])
    assert sdnotify.ready()
    assert sock.recv(4096) == b"READY=1"


def test_not_under_systemd_is_a_quiet_false(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False
    assert sdnotify.notify("READY=1", {}) is False
    assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": ""}) is False
    assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": "vsock:2:1234"}) is False
    # systemd went away: the socket is gone; the agent must not crash for it
    assert sdnotify.watchdog({"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


def test_watchdog_interval_is_half_the_timeout() -> None:
    pid = str(os.getpid())
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "10000000"}) == 5.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": pid}) == 5.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": pid}) == 1.5


def test_watchdog_interval_none_when_not_ours_or_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    other = str(os.getpid() + 1)
    # a child (the fence keeper) inherits the variables: systemd expects nothing from it
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": other}) is None
    assert sdnotify.watchdog_interval({}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "ten"}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "x"}) is None
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 1.0
