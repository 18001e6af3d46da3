"""Deterministic ``~`` splay: a stable point of each window occurrence per job.

OpenSVC picks a random delay; we hash a key such as "svc/job/node" so every node computes the
same instant and ``print schedule`` can show it. The point is anchored to the window occurrence
(not to ``now``), so repeated searches with an advancing clock agree on the same target.
"""

from __future__ import annotations

import hashlib


def fraction(key: str, element: str) -> float:
    """A stable number in [0, 1) for a job key and a time-range element."""
    digest = hashlib.sha256(f"{key}|{element}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def target(key: str, element: str, occ_start: int, occ_end: int, lo: int, hi: int) -> int:
    """The splayed second of occurrence [occ_start, occ_end], kept inside [lo, hi]."""
    point = occ_start + int(fraction(key, element) * (occ_end - occ_start + 1))
    return min(max(point, lo), hi)
