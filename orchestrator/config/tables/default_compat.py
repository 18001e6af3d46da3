"""``[DEFAULT]`` keywords OpenSVC defines for services (om3's core/object keyword store, v2's
svcdict) that take no effect here: each says why, and ``validate config`` warns when a
file sets one to anything but its default. The ones that do take effect are in
``tables/default.py``. A resource keyword written in DEFAULT (v2's service triggers
``pre_start`` ..., ``timeout``, ``restart``) is not a row here: it is the default of every
resource that has the keyword (om3's inheritance, config/service.py).
"""

from __future__ import annotations

from orchestrator.config import types as t
from orchestrator.config.keyword import Keyword
from orchestrator.config.keyword import kw as _kw
from orchestrator.config.tables.generic import pg_rows

_S = "DEFAULT"
NO_RELATIONS = "no relations between services here: the daemon places each service on its own"
NO_PROVISION = "there is no provision or unprovision action here"
NO_VOLUMES = "volume objects and pools are not supported here"
NO_PRIVATE_DOCKER = "containers use the node's docker or podman here, no private daemon"
NO_SCSI = "no SCSI persistent reservations are taken here"


def _noop(name: str, convert, default, doc: str, why: str, **extra) -> Keyword:  # type: ignore[no-untyped-def]
    return _kw(_S, name, convert, default, doc, noop=why, **extra)


ROWS: list[Keyword] = [
    _noop("app", t.to_string, "default",
          "A code naming who is responsible for the service (the collector's grouping).",
          "the collector here groups services by cluster and node, not by app code"),
    _noop("hard_affinity", t.to_list, (), "Services that must run on the node first.",
          NO_RELATIONS, aliases=("affinity",)),
    _noop("hard_anti_affinity", t.to_list, (), "Services that must not run on the node.",
          NO_RELATIONS, aliases=("anti_affinity",)),
    _noop("soft_affinity", t.to_list, (), "Services preferably running on the node.",
          NO_RELATIONS),
    _noop("soft_anti_affinity", t.to_list, (), "Services preferably not running on the node.",
          NO_RELATIONS),
    _noop("parents", t.to_list, (), "Services that must be up before this one starts.",
          NO_RELATIONS),
    _noop("children", t.to_list, (), "Services that must be down before this one stops.",
          NO_RELATIONS),
    _noop("slaves", t.to_list, (), "v2: services the started and stopped targets go to.",
          NO_RELATIONS),
    _noop("encapnodes", t.to_list, (), "Nodes of the encapsulated cluster (in containers).",
          "there are no encapsulated agents here", scopable=False),
    _noop("autostart_node", t.to_string, None, "OpenSVC v1: the node that starts it at boot.",
          "OpenSVC v1's; orchestrate = start (or ha) says it since v2"),
    _noop("drpnode", t.to_string, None, "v2's single disaster-recovery node (see drpnodes).",
          "write drpnodes, which takes effect (sync targets)"),
    _noop("stonith", t.to_bool, False,
          "Fence the peer with a callout before taking over its instance.",
          "no fencing callout here: the fence keeper of the node that lost the lease stops "
          "the service there (docs/cluster.md)"),
    _noop("shared", t.to_bool, True, "Shared resources are provisioned by the leader only.",
          NO_PROVISION),
    _noop("rollback", t.to_bool, False,
          "Stop what a failed start started (OpenSVC's default: true).",
          "a failed start is not rolled back here: what it started stays up, as with "
          "rollback = false"),
    _noop("create_pg", t.to_bool, False,
          "Make process groups (cgroups) for the service, its sets and resources "
          "(OpenSVC's default: true).", "no process groups (cgroups) are made here"),
    *pg_rows(_S),
    _noop("status_timeout", t.to_duration, None, "Timeout of the status evaluation.",
          "status commands take the timeout of their resource here"),
    _noop("provision_timeout", t.to_duration, None, "Timeout of the provision action.",
          NO_PROVISION),
    _noop("unprovision_timeout", t.to_duration, None, "Timeout of the unprovision action.",
          NO_PROVISION),
    _noop("sync_timeout", t.to_duration, None, "Timeout of the sync actions.",
          "sync resources take their own timeout here"),
    _noop("provision", t.to_bool, True, "Take part in the provision action.", NO_PROVISION),
    _noop("unprovision", t.to_bool, True, "Take part in the unprovision action.",
          NO_PROVISION),
    _noop("lock_timeout", t.to_duration, None, "v2: wait for the action lock this long.",
          "actions here take no service-wide lock"),
    _noop("mode", t.to_string, "hosted", "v2: deprecated, always hosted.",
          "deprecated by OpenSVC v2 already"),
    _noop("aws", t.to_string, None, "v2: the aws command line.", "there are no AWS drivers here"),
    _noop("aws_profile", t.to_string, None, "v2: the aws profile.",
          "there are no AWS drivers here"),
    _noop("drp_flex_primary", t.to_list, None, "v2: the flex primary among drpnodes.",
          "drpnodes run no flex instances here"),
    _noop("flex_cpu_low_threshold", t.to_int, None, "v2: flex scale-down cpu threshold.",
          "flex_target does not follow the load here"),
    _noop("flex_cpu_high_threshold", t.to_int, None, "v2: flex scale-up cpu threshold.",
          "flex_target does not follow the load here"),
    _noop("docker_exe", t.to_string, None, "v2: the docker command.", NO_PRIVATE_DOCKER),
    _noop("dockerd_exe", t.to_string, None, "v2: the dockerd command.", NO_PRIVATE_DOCKER),
    _noop("container_data_dir", t.to_string, None,
          "v2: data directory of the service's private docker daemon.", NO_PRIVATE_DOCKER,
          aliases=("docker_data_dir",)),
    _noop("docker_daemon_private", t.to_bool, False,
          "v2: run a docker daemon of the service's own.", NO_PRIVATE_DOCKER),
    _noop("docker_daemon_args", t.to_shlex_list, (),
          "v2: arguments of the service's private docker daemon.", NO_PRIVATE_DOCKER),
    _noop("access", t.to_string, "rwo", "Volume objects: the access mode.", NO_VOLUMES),
    _noop("pool", t.to_string, None, "Volume objects: the storage pool.", NO_VOLUMES),
    _noop("size", t.to_string, None, "Volume objects: the size.", NO_VOLUMES),
    _noop("prkey", t.to_string, None, "SCSI persistent reservation key.", NO_SCSI),
    _noop("no_preempt_abort", t.to_bool, False, "SCSI reservation preempt without abort.",
          NO_SCSI),
    _noop("scsireserv", t.to_bool, False, "SCSI persistent reservations of the disks.",
          NO_SCSI),
    _noop("show_disabled", t.to_bool, True, "v2: print status shows disabled resources.",
          "print status always shows disabled resources here"),
    _noop("scale", t.to_int, None, "v2/om3: a scaler's number of slice services.",
          "scaler services are not supported here"),
    _noop("scaler_slave", t.to_bool, False, "v2: a slice of a scaler service.",
          "scaler services are not supported here"),
    _noop("constraints", t.to_string, None, "v2: an expression nodes must satisfy to run it.",
          "placement here takes no constraint expression; write the nodes"),
    _noop("bwlimit", t.to_string, None, "v2: default bandwidth limit of the syncs.",
          "write the limit in the sync resource's options (--bwlimit)"),
    _noop("sync_interval", t.to_duration, None, "v2: default interval of the syncs.",
          "syncs follow sync_schedule here"),
    _noop("sync_max_delay", t.to_duration, None, "v2: alert when a sync is older than this.",
          "no sync age alerts here"),
    _noop("presnap_trigger", t.to_shlex_list, (), "v2: command run before snapshots.",
          "syncs take no snapshots here"),
    _noop("postsnap_trigger", t.to_shlex_list, (), "v2: command run after snapshots.",
          "syncs take no snapshots here"),
]
