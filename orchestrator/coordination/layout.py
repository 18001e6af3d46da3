"""The znode layout, in one place: every path the cluster store reads or writes is built here
(see docs/coordination.md for the tree and what each znode holds).

Every path is relative to the cluster chroot ``[<hosts chroot>]/orchestrator/<cluster>``.
Names are checked rather than escaped, so a path in ZooKeeper reads like the config. Pure
functions: both stores (ZooKeeper and in memory) use them.
"""

from __future__ import annotations

import hashlib
import re

from orchestrator.coordination.errors import InvalidName

CLUSTER_BASE = "/orchestrator"
NODES = "/nodes"
CONFIGS = "/configs"
SERVICES = "/services"
RUN_SLOTS = "/run-slots"  # per node: the persistent max_parallel slots its runs hold
LAYOUT = (NODES, CONFIGS, SERVICES)  # made at connect
RUN_PREFIX = "run-"  # sequential run records: run-0000000000, run-0000000001...

_NAME = re.compile(r"^[A-Za-z0-9_.:@+#=,~-]{1,200}$")


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise InvalidName(
            f"invalid {kind} name {name!r}: use letters, digits and _ . : @ + # = , ~ -"
        )
    return name


def child(base: str, name: str) -> str:
    """The path of ``name`` (a child name as ZooKeeper listed it) under ``base``."""
    return f"{base}/{name}"


def name_of(path: str) -> str:
    """The last component of ``path``."""
    return path.rsplit("/", 1)[1]


def parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0]


def cluster_root(cluster: str) -> str:
    return f"{CLUSTER_BASE}/{check_name('cluster', cluster)}"


def node_path(node: str) -> str:
    return f"{NODES}/{check_name('node', node)}"


def config_path(svc: str) -> str:
    return f"{CONFIGS}/{check_name('service', svc)}"


def service_path(svc: str) -> str:
    return f"{SERVICES}/{check_name('service', svc)}"


SLOT_MARK = "@flex"  # a flex service's instance slot K has the lease "<svc>@flex<K>"


def slot_lease_name(svc: str, slot: int) -> str:
    """The lease name of instance slot ``slot`` of flex service ``svc``."""
    return f"{svc}{SLOT_MARK}{slot}"


def lease_owner(name: str) -> tuple[str, int | None]:
    """The service a lease name belongs to, and its instance slot (None: the service's own
    failover lease). Service names hold no '@', so the split is unambiguous."""
    svc, mark, slot = name.partition(SLOT_MARK)
    if mark and slot.isdigit():
        return svc, int(slot)
    return name, None


def _lease_base(name: str) -> str:
    svc, slot = lease_owner(name)
    base = service_path(svc)
    return base if slot is None else f"{base}/flex/slot-{slot}"


def lease_path(name: str) -> str:
    """The lease znode of a service, or of one of a flex service's instance slots (under the
    service's tree, so deleting the service takes them too)."""
    return f"{_lease_base(name)}/lease"


def epoch_path(name: str) -> str:
    """The fencing epoch counter that goes with ``lease_path(name)``."""
    return f"{_lease_base(name)}/epoch"


def target_path(svc: str) -> str:
    return f"{service_path(svc)}/target"


def instances_path(svc: str) -> str:
    return f"{service_path(svc)}/instances"


def instance_path(svc: str, node: str) -> str:
    return f"{instances_path(svc)}/{check_name('node', node)}"


def jobs_path(svc: str) -> str:
    return f"{service_path(svc)}/jobs"


def job_path(svc: str, job: str, node: str | None = None) -> str:
    base = f"{jobs_path(svc)}/{check_name('job', job)}"
    return base if node is None else f"{base}/nodes/{check_name('node', node)}"


def claims_path(svc: str, job: str, node: str | None = None) -> str:
    return f"{job_path(svc, job, node)}/claims"


def claim_path(svc: str, job: str, slot: str, node: str | None = None) -> str:
    return f"{claims_path(svc, job, node)}/{check_name('slot', slot)}"


def job_state_path(svc: str, job: str, node: str | None = None) -> str:
    return f"{job_path(svc, job, node)}/state"


def runs_path(svc: str, job: str) -> str:
    return f"{job_path(svc, job)}/runs"


def run_record_prefix(svc: str, job: str) -> str:
    """What a sequential run record's path starts with (ZooKeeper appends the sequence)."""
    return f"{runs_path(svc, job)}/{RUN_PREFIX}"


def running_path(svc: str, rid: str) -> str:
    return f"{service_path(svc)}/running/{check_name('rid', rid)}"


def run_slot_path(svc: str, rid: str, k: int) -> str:
    """The ``k``-th max_parallel slot of ``rid`` (0-based)."""
    return f"{running_path(svc, rid)}/slot-{k}"


def node_slots_path(node: str) -> str:
    return f"{RUN_SLOTS}/{check_name('node', node)}"


def slot_entry_path(node: str, slot_path: str) -> str:
    """The node's index entry of a persistent run slot: named by a hash of the slot's path
    (a slot path holds '/', a znode name cannot), so the entry is found again from the path."""
    digest = hashlib.sha1(slot_path.encode()).hexdigest()
    return f"{node_slots_path(node)}/{digest}"
