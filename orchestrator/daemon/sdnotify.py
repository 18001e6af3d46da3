"""A tiny sd_notify(3) client: READY, WATCHDOG, STOPPING and STATUS to systemd.

The unit is ``Type=notify`` with ``WatchdogSec=``: systemd considers the agent started when
it says READY=1, and restarts it when its decision loop stops saying WATCHDOG=1. No
dependency on libsystemd: the protocol is one datagram on the AF_UNIX socket named by
``$NOTIFY_SOCKET`` (a path, or an abstract name written ``@name``). Outside systemd the
variable is unset and every call is a cheap no-op returning False. A send never raises: a
missing systemd must not take the agent down.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def _address(value: str) -> str | bytes | None:
    """The socket address of ``$NOTIFY_SOCKET``; None for what we do not speak (vsock:...)."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()  # the abstract namespace
    if value.startswith("/"):
        return value
    return None


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (``KEY=value`` lines) to systemd; False when not under systemd or the
    send failed, so callers need no guard of their own."""
    env = os.environ if environ is None else environ
    address = _address(env.get("NOTIFY_SOCKET", ""))
    if address is None or not state:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode(), address)
    except OSError:
        return False
    return True


def ready(environ: Mapping[str, str] | None = None) -> bool:
    """Startup is done: ``systemctl start`` returns and the unit becomes active."""
    return notify("READY=1", environ)


def watchdog(environ: Mapping[str, str] | None = None) -> bool:
    """One keepalive: the decision loop is alive (``WatchdogSec=`` restarts us without it)."""
    return notify("WATCHDOG=1", environ)


def stopping(environ: Mapping[str, str] | None = None) -> bool:
    """A graceful stop has begun (the watchdog is then no longer expected on time)."""
    return notify("STOPPING=1", environ)


def status(text: str, environ: Mapping[str, str] | None = None) -> bool:
    """A one-line status shown by ``systemctl status`` (newlines would start new keys)."""
    return notify("STATUS=" + " ".join(text.split()), environ)


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """How often to send WATCHDOG=1, in seconds: half of ``WatchdogSec=``, as
    sd_watchdog_enabled(3) recommends; None when systemd expects no keepalive from us.

    ``WATCHDOG_PID`` is honoured: a child that inherited the environment (the fence keeper)
    gets None, since systemd would ignore or misattribute its pings.
    """
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid is not None:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    return usec / 2 / 1_000_000
