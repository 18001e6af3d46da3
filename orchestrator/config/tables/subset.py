"""Keywords of ``[subset#<group>:<name>]`` sections: a resource set, the resources of one
driver group whose ``subset`` keyword names it (``[subset#app]``: those with none).

Within a driver group, sets start in name order, the unnamed one first, and stop in the
reverse order (om3's resourceset ordering); a set with ``parallel = true`` starts and
stops its resources side by side.
"""

from __future__ import annotations

from orchestrator.config import types as t
from orchestrator.config.keyword import Keyword
from orchestrator.config.keyword import kw as _kw
from orchestrator.config.tables.generic import pg_rows

ROWS: list[Keyword] = [
    _kw("subset", "parallel", t.to_bool, False,
        "Start and stop the resources of this set side by side (a failure still fails the "
        "action once they all end); false: one after the other, in rid order."),
    _kw("subset", "comment", t.to_string, None, "Helps users understand the role of the set."),
    *pg_rows("subset"),
]
