"""What each kind of job needs from the node agent to run, declared here (the agent imports
the jobs, never the reverse): the agent is one implementation, the unit tests' small fakes
are others. Each runner asks for the least it needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class ServiceJobHost(Protocol):
    """What a service's built-in job (status, pushes, compliance, sync) needs."""

    me: str
    clustered: bool
    runtimes: Mapping[str, Any]  # name -> runtime (service, started, target)

    def collector(self) -> Any: ...

    def publish_status(self, svc: str) -> Any: ...

    def peer_addresses(self) -> dict[str, str]: ...


class TaskHost(Protocol):
    """What a scheduled task run needs."""

    runtimes: Mapping[str, Any]
    keeper: Any  # the node's fence keeper link, None standalone


class NodeJobHost(Protocol):
    """What a node job (pushasset, the node's compliance_auto) needs."""

    me: str
    node: Any  # orchestrator.config.node.NodeConfig

    def collector(self) -> Any: ...


class MonitorHost(Protocol):
    """What the resource monitor needs: the instances, the cluster target (switch,
    freezestop), the decision loop to wake, the node's guard keywords."""

    me: str
    clustered: bool
    node: Any  # orchestrator.config.node.NodeConfig
    coord: Any  # the cluster store, None standalone
    runtimes: Mapping[str, Any]
    wake: Any  # threading.Event: wakes the decision loop
    stop_event: Any  # threading.Event: the agent is leaving

    def coord_connected(self) -> bool: ...

    def publish_status(self, svc: str) -> Any: ...
