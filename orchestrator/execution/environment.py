"""The environment a command starts with.

A command never inherits the daemon's environment wholesale: the daemon's variables
(``ORCHESTRATOR_ZK``, credentials, a developer's shell junk) are none of the task's
business, and a scheduled run must behave like a manual one. The child gets:

1. a base: a fixed ``PATH``, the target user's ``HOME``, ``USER``, ``LOGNAME``, ``SHELL``,
   and the locale/timezone of this process (``LANG``, ``LC_ALL``, ``TZ``) when set
   (``LANG`` defaults to ``C.UTF-8``);
2. the spec's ``environment`` on top (it may override any base variable);
3. ``ORCHESTRATOR_RUN_TOKEN``, a per-run random value that cannot be overridden: every
   descendant inherits it, which is how :mod:`.tree` finds processes that left the
   process group when the run must be killed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from orchestrator.execution.identity import Identity

BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RUN_TOKEN_VAR = "ORCHESTRATOR_RUN_TOKEN"
INHERITED = ("LANG", "LC_ALL", "TZ")


def build_environment(
    identity: Identity, extra: Mapping[str, str], run_token: str | None = None
) -> dict[str, str]:
    """The complete environment for a child running as ``identity``."""
    env = {
        "PATH": BASE_PATH,
        "HOME": identity.home,
        "USER": identity.name,
        "LOGNAME": identity.name,
        "SHELL": identity.shell,
        "LANG": "C.UTF-8",
    }
    for name in INHERITED:
        value = os.environ.get(name)
        if value:
            env[name] = value
    env.update(extra)
    if run_token is not None:
        env[RUN_TOKEN_VAR] = run_token
    return env
