"""A run-time problem with a resource's config, said the way validate says a config
problem: ``file:line: [rid] keyword = value: reason`` (an unknown interface, a disk that is
not attached: things only the node can know)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.config.errors import ConfigProblem

if TYPE_CHECKING:
    from orchestrator.config.service import ResourceConfig
    from orchestrator.service import Service


def keyword_problem(service: Service, rc: ResourceConfig, keyword: str, value: object,
                    reason: str) -> str:
    """One line naming the config file, the section, the keyword, its value and why."""
    return str(ConfigProblem(service.config.path, _line(service, rc, keyword), rc.rid,
                             keyword, None if value is None else str(value), reason))


def _line(service: Service, rc: ResourceConfig, keyword: str) -> int | None:
    """The line of the keyword as written here: ``kw@thisnode`` first, then ``kw``, then an
    alias or another scope (v2's ``ipdev`` for ``dev``)."""
    lines = dict(rc.lines)
    for raw in (f"{keyword}@{service.nodename}", keyword):
        if raw in lines:
            return lines[raw]
    from orchestrator.config.keywords import keywords_of

    kw = keywords_of(rc.driver).get(keyword)
    names = {keyword, *(kw.aliases if kw else ())}
    found = [n for raw, n in lines.items() if raw.partition("@")[0] in names]
    return found[0] if found else None
