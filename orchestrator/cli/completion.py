"""Shell completion of ``svcmgr`` and ``nodemgr`` (argcomplete): subcommands and options
from the parsers, service names from this node's services directory, rids from the
service's config (its section names, read without validating it: completion must be fast
and work on a config that does not validate yet).

Enable it once per shell (docs: README "Shell completion")::

    eval "$(register-python-argcomplete svcmgr)"; eval "$(register-python-argcomplete nodemgr)"
    # zsh: autoload -U bashcompinit && bashcompinit first, or
    eval "$(register-python-argcomplete --shell zsh svcmgr)"

argcomplete is imported only when the shell asks for completions (``_ARGCOMPLETE`` set):
a normal command pays nothing for it.
"""

from __future__ import annotations

import os
from typing import Any


def service_names(prefix: str = "", **_: Any) -> list[str]:
    from orchestrator.paths import NodePaths

    try:
        names = os.listdir(NodePaths.from_env().services_dir)
    except OSError:
        return []
    return sorted(n[:-5] for n in names
                  if n.endswith(".conf") and not n.startswith(".") and n.startswith(prefix))


def rids(prefix: str = "", parsed_args: Any = None, **_: Any) -> list[str]:
    """The resource ids of the service named on the line (``-s SVC``), and their groups."""
    from orchestrator.paths import NodePaths

    svc = getattr(parsed_args, "svc", None)
    if not svc or "/" in svc:
        return []
    try:
        text = NodePaths.from_env().service_conf(svc).read_text()
    except OSError:
        return []
    found = [line.strip()[1:-1].strip() for line in text.splitlines()
             if line.strip().startswith("[") and line.strip().endswith("]")]
    ids = [s for s in found if "#" in s]
    groups = sorted({s.split("#")[0] for s in ids})
    return [r for r in [*ids, *groups] if r.startswith(prefix)]


def requested() -> bool:
    """Is the shell asking for completions?"""
    return "_ARGCOMPLETE" in os.environ


def autocomplete(parser: Any) -> None:
    """Answer the shell's completion request and exit; return at once when there is none."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    # argcomplete reads '#' as a comment, so '--rid task#<TAB>' would complete nothing: in
    # a rid it is a letter (bash agrees: '#' inside a word is no comment)
    line = os.environ.get("COMP_LINE", "")
    point = int(os.environ.get("COMP_POINT") or len(line))
    head = line[:point].replace("#", "\\#")
    os.environ["COMP_LINE"] = head + line[point:].replace("#", "\\#")
    os.environ["COMP_POINT"] = str(len(head))

    argcomplete.autocomplete(parser)
