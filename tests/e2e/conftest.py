"""End-to-end fixtures: ``node``, a fresh node root (see e2e_support.Node)."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import Node


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return Node(tmp_path / "root")
