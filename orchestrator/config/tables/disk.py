"""Keywords of ``[disk#N]`` sections: type loop (om3's disk.loop manifest)."""

from __future__ import annotations

from typing import Any

from orchestrator.config import types as t
from orchestrator.config.keyword import RESOURCE_COMMON, Keyword
from orchestrator.config.keyword import kw as _kw


def _refuse_scsireserv(value: Any) -> str | None:
    return "not supported: SCSI persistent reservations" if value else None


ROWS: list[Keyword] = [
    _kw("disk", "type", t.to_string, None, "Disk driver: loop (a loop device on a file).",
        required=True),
    _kw("disk", "file", t.to_string, None,
        "The loop device's backing file (full path); start creates it, sparse, when missing.",
        required=True),
    _kw("disk", "size", t.to_size, None,
        "Size of the backing file start creates (100m, 1g, 512MiB, 20MB: om3's size syntax)."),
    _kw("disk", "promote_rw", t.to_bool, False,
        "Promote the device read-write at start (om3's base disk keyword). "
        "Accepted, no effect: a loop device is attached read-write."),
    _kw("disk", "scsireserv", t.to_bool, False, "SCSI persistent reservation of the disk.",
        refuse=_refuse_scsireserv),
    _kw("disk", "prkey", t.to_string, None, "SCSI persistent reservation key. "
        "Accepted, no effect: there are no SCSI reservations here."),
    _kw("disk", "no_preempt_abort", t.to_bool, False, "SCSI persistent reservation preempt mode. "
        "Accepted, no effect: there are no SCSI reservations here."),
    *[_kw("disk", n, c, d, doc) for n, c, d, doc in RESOURCE_COMMON],
]
