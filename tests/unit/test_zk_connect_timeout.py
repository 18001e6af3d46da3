"""One TCP connect to one ZooKeeper member is bounded by its share of the session timeout
(coordination.client.connect_timeout), not by the whole of it as kazoo does by itself."""

from __future__ import annotations

import socket
import threading

from orchestrator.coordination.client import BoundedConnectHandler, connect_timeout


def test_the_session_timeout_is_shared_among_the_members():
    assert connect_timeout(3.0, "zk1:2181,zk2:2181,zk3:2181/orchestrator") == 1.0
    assert connect_timeout(2.0, "127.0.0.1:2181") == 2.0
    assert connect_timeout(0.3, "a:1,b:1,c:1,d:1,e:1") == 0.2  # at least 0.2 s


def test_the_handler_caps_the_timeout_kazoo_asks_for_and_still_connects():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
    accepted.start()
    handler = BoundedConnectHandler(0.5)
    asked: list[float] = []
    original = type(handler).__mro__[1].create_connection

    def spy(self, *args, **kwargs):  # noqa: ANN001 - records what reaches kazoo's own
        asked.append(kwargs["timeout"])
        return original(self, *args, **kwargs)

    type(handler).__mro__[1].create_connection = spy
    try:
        sock = handler.create_connection(address=("127.0.0.1", port), timeout=10.0)
        accepted.join(5)  # the server side took it before the server closes
        sock.close()
    finally:
        type(handler).__mro__[1].create_connection = original
        server.close()
    assert asked == [0.5]
