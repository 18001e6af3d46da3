"""Node selectors: what ``nodes`` and ``drpnodes`` may say, as OpenSVC reads them.

``*`` and globs (``n[12] db*``) expand to the cluster's nodes that match, in the cluster's
order; a plain name stays as written. om3 also drops a plain name that is not a cluster
node; we keep it (a cluster's node list may be unknown here, and a node named in a
service that is not up yet is just not a candidate). Labels (``az=fr1``) need node labels,
which this cluster does not have.
"""

from __future__ import annotations

import fnmatch
import re

_GLOB = re.compile(r"[*?\[]")


class SelectorError(ValueError):
    """A selector this node cannot expand; the message says why."""


def expand(words: tuple[str, ...], cluster_nodes: tuple[str, ...] | None) -> tuple[str, ...]:
    """The node names ``words`` select, each once, in order."""
    out: list[str] = []
    for word in words:
        if "=" in word:
            raise SelectorError(f"{word!r}: node labels are not supported here "
                                "(no node has labels); name the nodes")
        if not _GLOB.search(word):
            matched = [word]
        elif cluster_nodes is None:
            raise SelectorError(
                f"{word!r} selects among the cluster's nodes, which this node does not "
                "know: set [cluster] nodes in node.conf")
        else:
            matched = [n for n in cluster_nodes if fnmatch.fnmatchcase(n.lower(), word.lower())]
        out.extend(n for n in matched if n not in out)
    return tuple(out)
