"""The ZooKeeper session: connection, cluster chroot, ACLs, state tracking, error translation.

This module and ``coordinator.py`` are the only places that touch kazoo. Every call into
kazoo runs under :func:`kazoo_errors`, which turns kazoo's exceptions into ours.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from kazoo import exceptions as kx
from kazoo.client import KazooClient, KazooState
from kazoo.handlers.threading import KazooTimeoutError, SequentialThreadingHandler
from kazoo.retry import KazooRetry, RetryFailedError
from kazoo.security import OPEN_ACL_UNSAFE, make_acl, make_digest_acl

from orchestrator.coordination import layout
from orchestrator.coordination.errors import (
    AccessDenied,
    CoordinationError,
    NodeExists,
    NoSuchNode,
    NotConnected,
    VersionConflict,
)
from orchestrator.coordination.states import ConnectionState

log = logging.getLogger("orchestrator.coordination")


def connect_timeout(session_timeout: float, hosts: str) -> float:
    """How long one TCP connect to one ZooKeeper member may take: the session timeout
    shared among the members (as kazoo bounds the handshake that follows), at least 0.2 s.

    kazoo gives every connect the whole session timeout. A member whose address vanished
    (its host died, a container gone, packets dropped) does not refuse the connect, it never
    answers: a client that tries it first waits a whole session timeout before the next
    member, and its session can expire meanwhile, fencing a healthy node. Measured on a
    podman network with a 10 s session: 10.2-10.4 s per reconnection through a vanished
    member, against 0.5-1.1 s through live ones."""
    members = [h for h in hosts.split("/", 1)[0].split(",") if h.strip()]
    return max(0.2, session_timeout / max(1, len(members)))


class BoundedConnectHandler(SequentialThreadingHandler):
    """kazoo's threading handler whose TCP connects wait at most ``connect_limit``."""

    def __init__(self, connect_limit: float):
        super().__init__()
        self.connect_limit = connect_limit

    def create_connection(self, *args: Any, **kwargs: Any) -> Any:
        timeout = kwargs.get("timeout")
        kwargs["timeout"] = (self.connect_limit if timeout is None
                             else min(float(timeout), self.connect_limit))
        return super().create_connection(*args, **kwargs)

P = ParamSpec("P")
R = TypeVar("R")

DIGEST_USER = "orchestrator"

_STATES = {
    KazooState.CONNECTED: ConnectionState.CONNECTED,
    KazooState.SUSPENDED: ConnectionState.SUSPENDED,
    KazooState.LOST: ConnectionState.LOST,
}


def translate(exc: BaseException, what: str = "") -> CoordinationError:
    """Our error for a kazoo error (``what`` says which operation, for the message)."""
    where = f"{what}: " if what else ""
    if isinstance(exc, CoordinationError):
        return exc
    if isinstance(
        exc,
        kx.ConnectionLoss
        | kx.SessionExpiredError
        | kx.SessionMovedError
        | kx.ConnectionDropped
        | kx.ZookeeperStoppedError
        | kx.OperationTimeoutError
        | kx.RequestTimeoutError
        | RetryFailedError
        | KazooTimeoutError,
    ):
        return NotConnected(f"{where}not connected to ZooKeeper ({type(exc).__name__})")
    if isinstance(exc, kx.NoNodeError):
        return NoSuchNode(f"{where}no such znode")
    if isinstance(exc, kx.NodeExistsError):
        return NodeExists(f"{where}znode already exists")
    if isinstance(exc, kx.BadVersionError):
        return VersionConflict(f"{where}znode changed concurrently")
    if isinstance(exc, kx.NoAuthError | kx.AuthFailedError | kx.InvalidACLError):
        return AccessDenied(
            f"{where}ZooKeeper refused access: missing or wrong cluster secret ({type(exc).__name__})"
        )
    return CoordinationError(f"{where}ZooKeeper error {type(exc).__name__}: {exc}")


KAZOO_ERRORS = (kx.KazooException, KazooTimeoutError)


@contextlib.contextmanager
def kazoo_errors(what: str = "") -> Iterator[None]:
    """Let no kazoo exception out: translate it, keeping the original as ``__cause__``."""
    try:
        yield
    except KAZOO_ERRORS as exc:
        raise translate(exc, what) from exc


def translated(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`kazoo_errors` for public methods."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with kazoo_errors(fn.__name__):
            return fn(*args, **kwargs)

    return wrapper


def tx_failure(results: list[Any]) -> tuple[int, BaseException] | None:
    """The (index, error) of the operation that failed a multi, or None if it committed."""
    for i, r in enumerate(results):
        if isinstance(r, BaseException) and not isinstance(
            r, kx.RolledBackError | kx.RuntimeInconsistency
        ):
            return i, r
    return None


def cluster_password(cluster: str, secret: str) -> str:
    """The digest password: an HMAC of the cluster name, so one secret differs per cluster."""
    return hmac.new(secret.encode(), cluster.encode(), hashlib.sha256).hexdigest()


class Session:
    """One kazoo client bound to a cluster chroot, with our state and listener hand-off.

    kazoo calls state listeners from its connection thread, where blocking would stall the
    session; listeners here only record the state and queue a hand-off to a dispatcher
    thread, which calls user listeners and callbacks one at a time.
    """

    def __init__(
        self,
        hosts: str,
        cluster: str,
        secret: str | None,
        session_timeout: float,
        connect_timeout: float = 10.0,
    ) -> None:
        self.hosts = hosts
        self.cluster = cluster
        self.session_timeout = session_timeout
        self.connect_timeout = connect_timeout
        self.op_timeout = max(1.0, session_timeout)
        self.known_paths: set[str] = set()  # persistent paths known to exist (ensure_path)
        base_hosts, _, base_chroot = hosts.partition("/")
        self._base_hosts = base_hosts.strip()
        self._base_chroot = ("/" + base_chroot.strip("/")) if base_chroot.strip("/") else ""
        self.root = layout.cluster_root(cluster)
        self.chroot = self._base_chroot + self.root
        if secret:
            password = cluster_password(cluster, secret)
            self._auth: list[tuple[str, str]] = [("digest", f"{DIGEST_USER}:{password}")]
            self._acl = [make_digest_acl(DIGEST_USER, password, all=True)]
        else:
            self._auth = []
            self._acl = list(OPEN_ACL_UNSAFE)
        self._state = ConnectionState.LOST
        self._state_lock = threading.Lock()
        self._listeners: list[Callable[[ConnectionState], None]] = []
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._dispatcher: threading.Thread | None = None
        self.zk: KazooClient | None = None
        self.last_heard = time.monotonic()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Create the cluster chroot if needed, then open the session in it."""
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name=f"zk-dispatch-{self.cluster}", daemon=True
        )
        self._dispatcher.start()
        try:
            self._create_chroot()
            zk = self._client(self._base_hosts + self.chroot)
            zk.add_listener(self._on_kazoo_state)
            self._track_contact(zk)
            self._connect(zk)
            self.zk = zk
            with self._state_lock:
                self._state = ConnectionState.CONNECTED
            self._check_access()
            ops = self.client("connect")
            for path in layout.LAYOUT:
                with kazoo_errors(f"ensure {path}"):
                    ops.ensure_path(path)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        zk, self.zk = self.zk, None
        if zk is not None:
            with contextlib.suppress(Exception):
                zk.stop()
            with contextlib.suppress(Exception):
                zk.close()
        with self._state_lock:
            self._state = ConnectionState.LOST
        if self._dispatcher is not None:
            self._queue.put(None)
            if self._dispatcher is not threading.current_thread():
                self._dispatcher.join(timeout=5)
            self._dispatcher = None

    def _client(self, hosts: str) -> KazooClient:
        return KazooClient(
            hosts=hosts,
            handler=BoundedConnectHandler(connect_timeout(self.session_timeout, hosts)),
            timeout=self.session_timeout,
            auth_data=self._auth or None,
            default_acl=self._acl,
            # retry often: after a leader election, be back as soon as the ensemble serves
            connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.2),
            command_retry=None,
        )

    def _track_contact(self, zk: KazooClient) -> None:
        """Keep ``last_heard``: when ZooKeeper last sent us anything (a reply, a ping answer).

        The server can expire our session only a session timeout after it last heard from
        us, and it answers at once: so a fencing deadline counts from here, not from the
        SUSPENDED notice (which comes at once when a server closes the connection, e.g. in a
        leader election, but ~2/3 of the timeout late when the network goes silent)."""
        conn = zk._connection
        read_socket = conn._read_socket

        def tracked(*args: Any, **kwargs: Any) -> Any:
            result = read_socket(*args, **kwargs)  # raises when the connection broke
            self.last_heard = time.monotonic()
            return result

        conn._read_socket = tracked

    def _connect(self, zk: KazooClient) -> None:
        try:
            zk.start(timeout=self.connect_timeout)
        except KAZOO_ERRORS as exc:
            raise NotConnected(
                f"ZooKeeper unreachable at {self.hosts} "
                f"(no session within {self.connect_timeout:g}s)"
            ) from exc

    def _create_chroot(self) -> None:
        """``<hosts chroot>/orchestrator`` (anyone may add a cluster, nobody may remove one)
        and ``.../orchestrator/<cluster>`` with the cluster's ACL."""
        zk = self._client(self._base_hosts)
        self._connect(zk)
        base = self._base_chroot + layout.CLUSTER_BASE
        try:
            with kazoo_errors(f"create cluster root {self.chroot}"):
                if not zk.exists(base):
                    if self._base_chroot:
                        zk.ensure_path(self._base_chroot, acl=list(OPEN_ACL_UNSAFE))
                    shared = [make_acl("world", "anyone", read=True, create=True)]
                    with contextlib.suppress(kx.NodeExistsError):
                        zk.create(base, acl=shared)
                if not zk.exists(self.chroot):
                    with contextlib.suppress(kx.NodeExistsError):
                        zk.create(self.chroot, acl=self._acl)
        finally:
            zk.stop()
            zk.close()

    def _check_access(self) -> None:
        """Fail at connect, not at the first write, when the secret does not match."""
        try:
            with kazoo_errors():
                self.client("connect").get_children("/")
        except AccessDenied as exc:
            raise AccessDenied(
                f"ZooKeeper refused access to cluster {self.cluster!r} ({self.chroot}): "
                "missing or wrong cluster secret"
            ) from exc

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def session_id(self) -> int | None:
        zk = self.zk
        if zk is None or zk.client_id is None:
            return None
        return int(zk.client_id[0])

    def raw(self) -> KazooClient:
        """The kazoo client itself (for kazoo's watch recipes only)."""
        zk = self.zk
        if zk is None:
            raise NotConnected("coordinator closed")
        return zk

    def client(self, what: str = "") -> Ops:
        """Bounded-wait operations; refused at once unless CONNECTED.

        kazoo queues a request made while disconnected until a connection comes back, which
        may be never: so nothing is sent unless we are connected, and no wait is longer than
        ``op_timeout``.
        """
        zk = self.raw()
        state = self._state
        if state is not ConnectionState.CONNECTED:
            where = f"{what}: " if what else ""
            raise NotConnected(f"{where}ZooKeeper connection is {state.value}; refusing")
        return Ops(zk, self.op_timeout, self.known_paths)

    require_connected = client

    def add_listener(self, fn: Callable[[ConnectionState], None]) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[ConnectionState], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(fn)

    def dispatch(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the dispatcher thread (never in kazoo's threads)."""
        self._queue.put(fn)

    def _on_kazoo_state(self, kstate: KazooState) -> None:
        state = _STATES[kstate]
        if state is ConnectionState.CONNECTED:
            self.last_heard = time.monotonic()
        with self._state_lock:
            self._state = state
        for fn in list(self._listeners):
            self._queue.put(functools.partial(fn, state))
        return None

    def _dispatch_loop(self) -> None:
        while True:
            fn = self._queue.get()
            if fn is None:
                return
            try:
                fn()
            except Exception:
                log.exception("coordination listener failed")


class Ops:
    """kazoo's calls used here, each waiting at most ``timeout`` (then ``NotConnected``)."""

    def __init__(self, zk: KazooClient, timeout: float, known: set[str] | None = None) -> None:
        self.zk = zk
        self.timeout = timeout
        self.known = known if known is not None else set()

    def _wait(self, result: Any) -> Any:
        return result.get(timeout=self.timeout)

    def wait(self, result: Any) -> Any:
        """The value of an async result sent earlier (waits at most the op timeout)."""
        return self._wait(result)

    def get(self, path: str) -> tuple[bytes, Any]:
        return self._wait(self.zk.get_async(path))

    def exists(self, path: str) -> Any:
        return self._wait(self.zk.exists_async(path))

    def get_children(self, path: str) -> list[str]:
        return self._wait(self.zk.get_children_async(path))

    def create(
        self, path: str, value: bytes = b"", *, ephemeral: bool = False, sequence: bool = False
    ) -> str:
        try:
            return self._wait(self.zk.create_async(path, value, ephemeral=ephemeral,
                                                   sequence=sequence))
        except kx.NoNodeError:
            parent = layout.parent_of(path)
            if parent not in self.known:
                raise
            self.forget_path(parent)  # deleted since we ensured it: once more, for real
            self.ensure_path(parent)
            return self._wait(self.zk.create_async(path, value, ephemeral=ephemeral,
                                                   sequence=sequence))

    def set(self, path: str, value: bytes, version: int = -1) -> Any:
        return self._wait(self.zk.set_async(path, value, version))

    def delete(self, path: str, version: int = -1) -> None:
        self.forget_path(path)
        self._wait(self.zk.delete_async(path, version))

    def ensure_path(self, path: str) -> None:
        """Create ``path`` and its parents if missing. Remembered: a path this session made
        sure of is not asked again (2 of the 3 round trips of a claim were this question)."""
        if path in self.known:
            return
        self._wait(self.zk.ensure_path_async(path))
        if len(self.known) > 100_000:
            self.known.clear()
        self.known.add(path)

    def forget_path(self, path: str) -> None:
        """``path`` (and what is below it) may be gone: ask again next time."""
        prefix = path + "/"
        for known in [k for k in self.known if k == path or k.startswith(prefix)]:
            self.known.discard(known)

    def delete_tree(self, path: str) -> None:
        """Delete ``path`` and everything below it (children first)."""
        try:
            children = self.get_children(path)
        except kx.NoNodeError:
            return
        for child in children:
            self.delete_tree(layout.child(path, child))
        with contextlib.suppress(kx.NoNodeError):
            self.delete(path)

    def get_many(self, paths: list[str]) -> dict[str, tuple[bytes, Any]]:
        """Data and stat of each path that exists, fetched in parallel."""
        pending = [(p, self.zk.get_async(p)) for p in paths]
        out = {}
        for p, res in pending:
            with contextlib.suppress(kx.NoNodeError):
                out[p] = self._wait(res)
        return out

    def exists_many(self, paths: list[str]) -> dict[str, Any]:
        pending = [(p, self.zk.exists_async(p)) for p in paths]
        out = {}
        for p, res in pending:
            stat = self._wait(res)
            if stat is not None:
                out[p] = stat
        return out

    def delete_many(self, paths: list[str]) -> int:
        pending = [self.zk.delete_async(p) for p in paths]
        gone = 0
        for res in pending:
            with contextlib.suppress(kx.NoNodeError):
                self._wait(res)
                gone += 1
        return gone

    def transaction(self) -> Any:
        return self.zk.transaction()

    def commit(self, tx: Any) -> list[Any]:
        return self._wait(tx.commit_async())
