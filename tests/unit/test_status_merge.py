"""OpenSVC's status merge rules."""

from __future__ import annotations

import pytest

from orchestrator.resources.status import Status as S
from orchestrator.resources.status import failover_avail, merge, merge_pair


@pytest.mark.parametrize("a, b, result", [
    (S.UP, S.DOWN, S.WARN), (S.UP, S.NA, S.UP), (S.DOWN, S.NA, S.DOWN),
    (S.UP, S.STDBY_UP, S.UP), (S.DOWN, S.STDBY_UP, S.STDBY_UP), (S.UP, S.UP, S.UP),
    (S.WARN, S.UP, S.WARN), (S.UNDEF, S.DOWN, S.DOWN), (S.DOWN, S.STDBY_DOWN, S.DOWN),
    (S.UP, S.STDBY_DOWN, S.WARN), (S.STDBY_UP, S.STDBY_DOWN, S.WARN),
])
def test_pairs_symmetric(a, b, result):
    assert merge_pair(a, b) == result
    assert merge_pair(b, a) == result


def test_merge_many():
    assert merge([]) == S.NA
    assert merge([S.NA, S.UP, S.STDBY_UP]) == S.UP
    assert merge([S.UP, S.UP, S.DOWN]) == S.WARN


def test_failover_avail():
    assert failover_avail([S.UP, S.DOWN]) == S.UP
    assert failover_avail([S.UP, S.UP]) == S.WARN
    assert failover_avail([S.DOWN, S.STDBY_UP]) == S.DOWN
    assert failover_avail([]) == S.DOWN
