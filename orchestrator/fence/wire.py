"""How the agent and its node's fence keeper talk: JSON lines over a local stream socket.

The socket is in the abstract namespace (no file, no 108-byte path limit, gone with the
process), named after the node's root so several nodes on one machine each have their own
keeper. Only processes of the keeper's own user may talk to it (SO_PEERCRED): whoever can
talk to it can disarm it.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
from pathlib import Path
from typing import Any

MAX_LINE = 4 * 1024 * 1024  # a guard message carries a service config


def address(root: Path) -> str:
    """The keeper's abstract socket name for the node whose files live under ``root``."""
    digest = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:20]
    return f"\0orchestrator-fence-keeper-{digest}"


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end (Linux SO_PEERCRED)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), default=str).encode() + b"\n"


class LineReader:
    """Splits a byte stream into JSON messages (one per line)."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self.buffer += data
        if len(self.buffer) > MAX_LINE:
            raise ValueError("message too long")
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]
