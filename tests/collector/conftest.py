"""Collector fixtures: a started collector process per test (temp SQLite file, free port)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from collector_support import CollectorProcess


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    proc = CollectorProcess(tmp_path).start()
    try:
        yield proc
    finally:
        proc.kill()
