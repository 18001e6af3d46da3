"""The optional kernel watchdog, in Patroni's spirit: the last line of defence.

The fence keeper stops a node's services when the agent dies or hangs. If the keeper itself
hangs, or a fence overruns its budget, nothing in user space can be trusted to stop them;
the kernel can. Once ``/dev/watchdog`` is open the kernel resets the machine unless it is
written to within its timeout, so the keeper pets it while it guards started services and
its own loop is healthy, and disarms it with the magic close (``V``) when nothing is guarded.

``[node] watchdog``: ``off`` never opens it; ``automatic`` uses it when it can be opened and
carries on without it otherwise; ``required`` refuses to go on without it
(:class:`WatchdogUnavailable`), as Patroni refuses to promote.

Nothing here raises once armed (EPIPE, EIO, EAGAIN...): a failed write is recorded in
``reason``. The open is non-blocking, so a FIFO standing in for the device (the tests) with
no reader fails with ENXIO instead of hanging, and writes never block the keeper's loop.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import platform
import stat
import threading

from orchestrator.errors import OrchestratorError
from orchestrator.log import get_logger

log = get_logger("fence.watchdog")

MODES = ("off", "automatic", "required")
DEFAULT_DEVICE = "/dev/watchdog"

_KEEPALIVE_BYTE = b"1"
_MAGIC_CLOSE = b"V"
_TRANSIENT = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)


def _wdioc_keepalive() -> int:
    """``WDIOC_KEEPALIVE = _IOR('W', 5, int)`` from linux/watchdog.h, per architecture."""
    size_bits, read_dir = 14, 2
    machine = platform.machine()
    if machine in ("mips", "mips64", "sparc", "sparc64", "powerpc", "ppc", "ppc64", "ppc64le"):
        size_bits = 13
    elif machine == "parisc":
        read_dir = 1
    return (read_dir << (16 + size_bits)) | (4 << 16) | (ord("W") << 8) | 5


WDIOC_KEEPALIVE = _wdioc_keepalive()


class WatchdogUnavailable(OrchestratorError):
    """``watchdog = required`` and the device cannot be armed: do not guard anything."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"watchdog required but unavailable: {reason}")


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


class Watchdog:
    """One kernel watchdog device, armed or not; thread-safe, never raises once armed."""

    def __init__(self, mode: str, device: str = DEFAULT_DEVICE):
        if mode not in MODES:
            raise ValueError(f"watchdog mode {mode!r}: expected one of {', '.join(MODES)}")
        self.mode = mode
        self.device = device
        self._fd: int | None = None
        self._chardev = False
        self._lock = threading.Lock()
        self._reason: str | None = "watchdog = off" if mode == "off" else "not armed"
        self._logged: str | None = None  # a caller retrying every loop logs a failure once

    @property
    def active(self) -> bool:
        """True while the device is open: the kernel resets the node unless it is petted."""
        return self._fd is not None

    @property
    def reason(self) -> str | None:
        """Why it is not active, or why the last keepalive failed; None when all is well."""
        return self._reason

    def arm(self) -> bool:
        """Open the device so the kernel starts counting; True if armed (or already armed).

        ``automatic``: a failure is logged and False returned; ``required``: it raises
        :class:`WatchdogUnavailable`; ``off``: nothing is opened, False.
        """
        if self.mode == "off":
            return False
        with self._lock:
            if self._fd is not None:
                return True
            reason = self._open()
            if reason is None:
                self._reason = self._logged = None
                log.info("watchdog armed", device=self.device, mode=self.mode)
                return True
            self._reason = reason
            first = self._first_time(reason)
        if self.mode == "required":
            if first:
                log.error("watchdog required but unavailable", device=self.device,
                          reason=reason)
            raise WatchdogUnavailable(reason)
        if first:
            log.warning("watchdog unavailable, carrying on without it", device=self.device,
                        reason=reason)
        return False

    def _first_time(self, reason: str) -> bool:
        """True unless this very failure was the last one logged."""
        first, self._logged = reason != self._logged, reason
        return first

    def _open(self) -> str | None:
        """Open ``device`` into ``_fd``; the reason it could not be, or None."""
        try:
            fd = os.open(self.device, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # a FIFO without a reader (or a device without driver)
                return f"cannot open {self.device}: no reader or no driver (ENXIO)"
            return f"cannot open {self.device}: {_describe(exc)}"
        try:
            mode = os.fstat(fd).st_mode
        except OSError as exc:
            os.close(fd)
            return f"cannot stat {self.device}: {_describe(exc)}"
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            # a regular file would swallow the keepalives and protect nothing
            os.close(fd)
            return f"{self.device} is not a character device"
        self._fd = fd
        self._chardev = stat.S_ISCHR(mode)
        return None

    def keepalive(self) -> bool:
        """Pet the watchdog once; True if the kernel (or the FIFO's reader) got it.

        A transient failure (a full FIFO) keeps the device open; a broken one (EPIPE, EIO)
        closes it without the magic close, so a real device still fires.
        """
        with self._lock:
            fd = self._fd
            if fd is None:
                return False
            try:
                os.write(fd, _KEEPALIVE_BYTE)
            except OSError as exc:
                self._reason = f"keepalive failed: {_describe(exc)}"
                if exc.errno not in _TRANSIENT:
                    self._close_locked()
                if self._first_time(self._reason):
                    log.warning("watchdog keepalive failed", device=self.device,
                                reason=self._reason, still_armed=self._fd is not None)
                return False
            if self._chardev:
                # the write above is a keepalive on every driver; the ioctl is belt and braces
                with contextlib.suppress(OSError):
                    fcntl.ioctl(fd, WDIOC_KEEPALIVE, bytes(4))  # its int argp is ignored
            self._reason = self._logged = None
            return True

    def disarm(self) -> bool:
        """Stop the kernel's countdown (the magic close ``V``, then close); True if the magic
        close was written. Without it a real device keeps counting and resets the node."""
        with self._lock:
            fd = self._fd
            if fd is None:
                return False
            try:
                os.write(fd, _MAGIC_CLOSE)
            except OSError as exc:
                self._reason = f"magic close failed: {_describe(exc)}"
                log.warning("watchdog magic close failed", device=self.device,
                            reason=self._reason)
                self._close_locked()
                return False
            self._close_locked()
            self._reason = "disarmed"
            log.info("watchdog disarmed", device=self.device)
            return True

    def _close_locked(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __repr__(self) -> str:
        state = "armed" if self.active else f"not armed: {self._reason}"
        return f"Watchdog({self.mode}, {self.device}, {state})"
