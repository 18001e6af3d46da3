"""A parsed config keeps nothing of its parse alive: a daemon holds 1,000 of them. The lazy
DEFAULT.id once closed over the resolver, which kept its sections, problems and reference
caches alive with every config (~120 KB each; 1,000 configs took 142 MB instead of 38)."""

from __future__ import annotations

import gc

from orchestrator.config.references import References
from orchestrator.config.service import _Resolver, parse_service

TEXT = ("[DEFAULT]\nnodes = n1\n\n"
        + "".join(f"[task#{j}]\ncommand = /bin/true\nschedule = 0 3 * * *\n\n" for j in range(3)))


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def test_no_resolver_nor_references_outlive_the_parse() -> None:
    before = (_alive(_Resolver), _alive(References))
    configs = [parse_service(TEXT, f"s{i}.conf", f"s{i}", "n1") for i in range(5)]
    assert (_alive(_Resolver), _alive(References)) == before
    assert configs[0].defaults["id"] != configs[1].defaults["id"]  # the lazy id still works
    assert configs[0].defaults["id"] == parse_service(TEXT, "x", "s0", "n1").defaults["id"]
