"""The keyword tables are imported per section kind (config.keywords._TABLES_OF): the map
must name, for every kind, each module holding rows or checks of it, or a section of that
kind would silently lose keywords or checks."""

from __future__ import annotations

import importlib
import pkgutil

from orchestrator.config import keywords, tables


def _table_modules() -> list[str]:
    return [m.name for m in pkgutil.iter_modules(tables.__path__)
            if hasattr(importlib.import_module(f"{tables.__name__}.{m.name}"), "ROWS")]


def test_every_table_module_is_listed_once_in_the_reference_order() -> None:
    assert sorted(keywords.TABLE_MODULES) == sorted(_table_modules())
    assert len(set(keywords.TABLE_MODULES)) == len(keywords.TABLE_MODULES)


def test_every_kind_maps_to_the_modules_holding_its_rows_and_checks() -> None:
    for name in _table_modules():
        module = importlib.import_module(f"{tables.__name__}.{name}")
        kinds = {row.section for row in module.ROWS}
        kinds |= {kind for kind, _ in getattr(module, "CHECKS", ())}
        kinds |= {kind for kind, _ in getattr(module, "SERVICE_CHECKS", ())}
        for kind in kinds:
            assert name in keywords._TABLES_OF.get(kind, ()), (name, kind)


def test_every_service_and_node_section_kind_has_a_table() -> None:
    for kind in (*keywords.SERVICE_SECTIONS, *keywords.NODE_SECTIONS, "*", "subset"):
        assert keywords.keywords_of(kind), kind


def test_a_kind_looked_up_imports_only_its_tables() -> None:
    """What the lazy map is for: a task-only service reads no app or fs table. Run in a
    fresh interpreter, where nothing else imported them."""
    import json
    import subprocess
    import sys

    code = ("import json, sys\n"
            "from orchestrator.config.keywords import resource_keywords, keywords_of\n"
            "resource_keywords('task'); keywords_of('DEFAULT')\n"
            "print(json.dumps([m.rsplit('.', 1)[1] for m in sys.modules "
            "if m.startswith('orchestrator.config.tables.')]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = set(json.loads(out))
    assert {"task", "generic", "default", "default_compat"} <= loaded
    assert not loaded & {"app", "fs", "ip", "disk", "sync"}, loaded
