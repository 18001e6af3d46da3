"""The kernel watchdog keepalive, against a FIFO standing in for the device.

Never a real /dev/watchdog: opening one arms it, and a test that stops petting it would
reset the machine.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.fence.watchdog import DEFAULT_DEVICE, Watchdog, WatchdogUnavailable


class FifoReader:
    """A FIFO with a reader: the read end is opened first (non-blocking, so the open
    returns at once), then a thread drains it until the writer closes (EOF)."""

    def __init__(self, path: Path):
        os.mkfifo(path)
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.data = bytearray()
        self.eof = threading.Event()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Drain in a thread; only once a writer has opened (before that, read means EOF)."""
        os.set_blocking(self.fd, True)
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while chunk := os.read(self.fd, 4096):
            with self._cond:
                self.data += chunk
                self._cond.notify_all()
        self.eof.set()

    def wait_for(self, expected: bytes, timeout: float = 2.0) -> bytes:
        with self._cond:
            self._cond.wait_for(lambda: bytes(self.data) == expected, timeout)
            return bytes(self.data)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[FifoReader]:
    reader = FifoReader(tmp_path / "watchdog")
    yield reader
    if reader.eof.is_set() or reader._thread is None:  # never under a blocked read
        reader.close()


def test_keepalives_arrive_and_the_magic_close_disarms(fifo: FifoReader) -> None:
    wd = Watchdog("required", str(fifo.path))
    assert wd.arm() is True
    assert wd.active and wd.reason is None
    fifo.start()
    assert all(wd.keepalive() for _ in range(3))
    assert fifo.wait_for(b"111") == b"111"
    assert wd.arm() is True  # already armed: not opened twice
    assert wd.disarm() is True
    assert fifo.eof.wait(2), "the device was not closed after the magic close"
    assert bytes(fifo.data) == b"111V"
    assert not wd.active and wd.reason == "disarmed"
    assert wd.keepalive() is False and wd.disarm() is False  # disarmed: nothing more written
    assert bytes(fifo.data) == b"111V"


def test_automatic_without_the_device_carries_on(tmp_path: Path) -> None:
    wd = Watchdog("automatic", str(tmp_path / "missing"))
    assert wd.arm() is False
    assert not wd.active
    assert "cannot open" in (wd.reason or "") and "No such file" in (wd.reason or "")
    assert wd.keepalive() is False and wd.disarm() is False


def test_required_without_the_device_raises(tmp_path: Path) -> None:
    wd = Watchdog("required", str(tmp_path / "missing"))
    with pytest.raises(WatchdogUnavailable) as info:
        wd.arm()
    assert "No such file" in info.value.reason and str(tmp_path / "missing") in info.value.reason
    assert not wd.active and wd.reason == info.value.reason


@pytest.mark.parametrize("mode", ["automatic", "required"])
def test_fifo_without_reader_does_not_hang(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "watchdog"
    os.mkfifo(path)
    wd = Watchdog(mode, str(path))
    started = time.monotonic()
    if mode == "required":
        with pytest.raises(WatchdogUnavailable, match="ENXIO"):
            wd.arm()
    else:
        assert wd.arm() is False
    assert time.monotonic() - started < 1.0
    assert not wd.active and "ENXIO" in (wd.reason or "")


def test_off_never_opens(tmp_path: Path) -> None:
    wd = Watchdog("off", str(tmp_path / "missing"))
    assert wd.arm() is False  # no raise, and no open attempt: the reason is still "off"
    assert wd.reason == "watchdog = off" and not wd.active
    assert wd.keepalive() is False and wd.disarm() is False
    assert Watchdog("off").device == DEFAULT_DEVICE


def test_reader_gone_is_recorded_not_raised(fifo: FifoReader) -> None:
    wd = Watchdog("required", str(fifo.path))
    assert wd.arm()
    fifo.close()  # nobody reads any more: the next write gets EPIPE
    assert wd.keepalive() is False
    assert not wd.active and "Broken pipe" in (wd.reason or "")
    assert wd.disarm() is False


def test_full_fifo_keeps_it_armed(fifo: FifoReader) -> None:
    wd = Watchdog("automatic", str(fifo.path))
    assert wd.arm()
    fcntl.fcntl(fifo.fd, fcntl.F_SETPIPE_SZ, 4096)  # the reader is slow: the pipe fills
    for _ in range(4096):
        assert wd.keepalive()
    assert wd.keepalive() is False  # EAGAIN: the write never blocks the keeper's loop
    assert wd.active and "keepalive failed" in (wd.reason or "")
    os.read(fifo.fd, 4096)
    assert wd.keepalive() is True and wd.reason is None
    assert wd.disarm()


def test_a_regular_file_is_no_watchdog(tmp_path: Path) -> None:
    path = tmp_path / "watchdog"
    path.write_bytes(b"")
    wd = Watchdog("automatic", str(path))
    assert wd.arm() is False
    assert "not a character device" in (wd.reason or "")
    assert path.read_bytes() == b""


def test_character_device_gets_the_ioctl_tried() -> None:
    # /dev/null is a character device that is not a watchdog: the ioctl fails (ENOTTY) and
    # is ignored, the write is the keepalive
    wd = Watchdog("required", os.devnull)
    assert wd.arm()
    assert wd.keepalive() is True
    assert wd.disarm() is True


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="expected one of off, automatic, required"):
        Watchdog("sometimes")


def test_a_retried_failure_is_logged_once(tmp_path: Path) -> None:
    # the keeper retries arm() every loop while it guards something: one warning, not a flood
    from structlog.testing import capture_logs

    wd = Watchdog("automatic", str(tmp_path / "missing"))
    with capture_logs() as logs:
        for _ in range(5):
            assert wd.arm() is False
    assert [e["event"] for e in logs] == ["watchdog unavailable, carrying on without it"]
