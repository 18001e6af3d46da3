"""Keywords OpenSVC accepts in every resource section, whatever its driver (om3's
manifest ``genericKeywords``, the starter/stopper/provisioner keywords, the base keywords
with no section; v2's generic ``SECTIONS`` keywords), as section kind ``*``.

A driver's own table wins: where it defines one of these names (app's ``pre_start``,
task's ``timeout``), its row applies and this one does not. Here they are the fallback, so
a resource section OpenSVC accepts is not refused for a keyword its driver here does not
act on; each such keyword is listed with no effect and validate warns when it is set.
"""

from __future__ import annotations

from orchestrator.config import types as t
from orchestrator.config.keyword import Keyword
from orchestrator.config.keyword import kw as _kw

SECTION = "*"

_ACTIONS = ("start", "stop", "provision", "unprovision", "startstandby")
_NO_TRIGGER = "this driver runs no trigger for this action here"
_NO_PROVISION = "there is no provision or unprovision action here"


def _triggers() -> list[Keyword]:
    rows = []
    for action in _ACTIONS:
        why = _NO_PROVISION if action in ("provision", "unprovision") else _NO_TRIGGER
        for kind, what in (("pre", "before"), ("post", "after")):
            rows.append(_kw(SECTION, f"{kind}_{action}", t.to_string, None,
                            f"Command run {what} the {action} action; its failure is logged "
                            "only.", noop=why))
            rows.append(_kw(SECTION, f"blocking_{kind}_{action}", t.to_string, None,
                            f"Command run {what} the {action} action; its failure fails the "
                            "action.", noop=why))
    return rows


def _requires() -> list[Keyword]:
    return [_kw(SECTION, f"{action}_requires", t.to_requirements, (),
                f"rid(state,...) conditions to meet before the {action} action.",
                noop="this driver does not wait on other resources for this action here")
            for action in ("start", "stop", "provision", "unprovision", "sync")]


def _timeouts() -> list[Keyword]:
    return [_kw(SECTION, name, t.to_duration, None, f"Timeout of the {what}.",
                noop="this driver has no such timeout here")
            for name, what in (("timeout", "resource's actions"),
                               ("start_timeout", "start action"),
                               ("stop_timeout", "stop action"),
                               ("status_timeout", "status evaluation"),
                               ("provision_timeout", "provision action"),
                               ("unprovision_timeout", "unprovision action"),
                               ("sync_timeout", "sync action"))]


PG_KEYWORDS = (("pg_cpus", t.to_string), ("pg_mems", t.to_string),
               ("pg_cpu_shares", t.to_string), ("pg_cpu_quota", t.to_string),
               ("pg_mem_oom_control", t.to_string), ("pg_mem_limit", t.to_string),
               ("pg_vmem_limit", t.to_string), ("pg_mem_swappiness", t.to_string),
               ("pg_blkio_weight", t.to_string))
NO_PG = "no process groups (cgroups) are made here"


def pg_rows(section: str) -> list[Keyword]:
    """OpenSVC's process-group cappings (cgroups), accepted in DEFAULT, subsets and every
    resource; none is applied here."""
    return [_kw(section, name, convert, None, "Process group capping (cgroup).", noop=NO_PG)
            for name, convert in PG_KEYWORDS]


ROWS: list[Keyword] = [
    _kw(SECTION, "comment", t.to_string, None,
        "Helps users understand the role of the resource (shown by print config only)."),
    _kw(SECTION, "shared", t.to_bool, False,
        "Shared between the instances during provision and unprovision.", noop=_NO_PROVISION),
    _kw(SECTION, "encap", t.to_bool, False,
        "Managed by the agent of an encapsulated node (encapnodes).",
        noop="there are no encapsulated agents here"),
    _kw(SECTION, "standby", t.to_bool, False, "Started on passive nodes too.",
        noop="this driver does not start resources on passive nodes here"),
    _kw(SECTION, "always_on", t.to_list, (),
        "v2: nodes or drpnodes where the resource is always up (standby).",
        noop="this driver does not start resources on passive nodes here"),
    _kw(SECTION, "provision", t.to_bool, True, "Take part in the provision action.",
        noop=_NO_PROVISION),
    _kw(SECTION, "unprovision", t.to_bool, True, "Take part in the unprovision action.",
        noop=_NO_PROVISION),
    _kw(SECTION, "scsireserv", t.to_bool, False, "SCSI persistent reservation of the disks.",
        noop="no SCSI persistent reservations are taken here"),
    _kw(SECTION, "prkey", t.to_string, None, "SCSI persistent reservation key.",
        noop="no SCSI persistent reservations are taken here"),
    _kw(SECTION, "no_preempt_abort", t.to_bool, False,
        "SCSI reservation preempt without abort.",
        noop="no SCSI persistent reservations are taken here"),
    _kw(SECTION, "stat_timeout", t.to_duration, None,
        "Timeout of the stat calls of the status evaluation.",
        noop="this driver makes no stat calls here"),
    *_triggers(),
    *_requires(),
    *_timeouts(),
    *pg_rows(SECTION),
]
