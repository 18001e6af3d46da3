"""A threaded loopback TCP proxy that can black-hole its traffic, to partition one client.

Why: a partition without privileges. Put the proxy between one node and ZooKeeper, then
``blackhole()``: bytes stop flowing both ways but no socket is closed, as when a network
drops packets. The client sees silence (SUSPENDED), not a reset; ZooKeeper sees a session
that stops pinging and expires it. ``heal()`` resumes forwarding; anything queued in the
kernel buffers meanwhile is delivered in order, as TCP would after retransmission.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream``; ``blackhole()`` / ``heal()`` switch it."""

    def __init__(self, upstream: tuple[str, int], host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = upstream
        self._listener = socket.create_server((host, port))
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def hosts(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

    @property
    def blackholed(self) -> bool:
        return not self._flowing.is_set()

    def blackhole(self) -> None:
        """Stop forwarding in both directions; keep every socket open."""
        self._flowing.clear()

    def heal(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        """Stop accepting and close every connection (clients see a reset)."""
        self._closed.set()
        self._flowing.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            socks = list(self._sockets)
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()
        for t in [self._accept_thread, *self._threads]:
            t.join(timeout=2)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _accept_loop(self) -> None:
        self._listener.settimeout(0.2)
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(client,), daemon=True)
            with self._lock:
                self._sockets.add(client)
                self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    def _serve(self, client: socket.socket) -> None:
        # A connection opened during a black hole waits, like a SYN that gets no answer.
        while not self._flowing.wait(0.2):
            if self._closed.is_set():
                break
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            self._close_pair(client, None)
            return
        with self._lock:
            self._sockets.add(upstream)
        self._pump(client, upstream)

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peer = {a: b, b: a}
        sel = selectors.DefaultSelector()
        try:
            sel.register(a, selectors.EVENT_READ)
            sel.register(b, selectors.EVENT_READ)
            while not self._closed.is_set():
                if not self._flowing.wait(0.2):
                    continue  # black hole: leave the bytes in the kernel buffers
                for key, _ in sel.select(timeout=0.2):
                    if not self._flowing.is_set():
                        break
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        data = src.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    try:
                        peer[src].sendall(data)
                    except OSError:
                        return
        finally:
            sel.close()
            self._close_pair(a, b)

    def _close_pair(self, a: socket.socket, b: socket.socket | None) -> None:
        for s in (a, b):
            if s is None:
                continue
            with contextlib.suppress(OSError):
                s.close()
            with self._lock:
                self._sockets.discard(s)
