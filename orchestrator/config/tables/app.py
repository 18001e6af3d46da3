"""Keywords of ``[app#N]`` sections (om3's resapp, resappforking and resappsimple manifests;
v2's names are the same), and how their ``start``/``stop``/``check``/``info`` values read.

``start = true`` (or an order number such as ``10``) with ``script`` runs ``script start``;
``false`` runs nothing; anything else is the command itself. The order numbers also order
the apps: numbered ones first, by number, then the others by rid (om3's sort key).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.config import types as t
from orchestrator.config.keyword import (
    EXECUTION_COMMON,
    RESOURCE_COMMON,
    Advice,
    Keyword,
    limit_rows,
)
from orchestrator.config.keyword import kw as _kw
from orchestrator.resources.registry import DRIVERS

# om3 reads these with Go's strconv.ParseBool (1, t, true, 0, f, false in any case); v2's
# yes/no/on/off are read too: no app's command is called "yes"
_TRUE = {"1", "t", "true", "yes", "y", "on"}
_FALSE = {"0", "f", "false", "no", "n", "off"}
SCRIPT_ACTIONS = {"start": "start", "stop": "stop", "check": "status", "info": "info"}


def script_rule(value: str | None) -> bool | None:
    """True: run ``script <action>`` (a true word or an order number); False: run nothing
    (unset, empty or a false word); None: the value is a command of its own."""
    if value is None or not value.strip():
        return False
    word = value.strip().lower()
    if word in _TRUE or order_number(value) is not None:
        return True
    if word in _FALSE:
        return False
    return None


def order_number(value: str | None) -> int | None:
    """The order number of a ``start = 10`` value, or None (om3 reads two digits or more
    as one; a single digit other than 0 and 1 is one here too, as v2 reads it)."""
    if value is None:
        return None
    word = value.strip()
    if not word.lstrip("-").isdigit() or word in ("0", "1"):
        return None
    return int(word)


# what om3 does at run time with ``<action> = true`` and no script (its getCmdStringFromBoolRule
# fails the action; a service's stop ignores an app's stop failure), and so do we
WITHOUT_SCRIPT = {"start": "the start fails", "stop": "the stop runs nothing",
                  "check": "the status is undef", "info": "no info is pushed"}


def without_script(action: str) -> str:
    """Why ``<action> = true`` runs no script: om3 reads the file, and says so at run time."""
    return f"means 'run <script> {SCRIPT_ACTIONS[action]}', but script is not set"


def _problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the keywords of one app section cannot mean together: (keyword, reason); an
    Advice is a warning (om3 accepts the file and fails at run time: we say so first)."""
    problems: list[tuple[str, str]] = []
    for action in SCRIPT_ACTIONS:
        if script_rule(values.get(action)) and not values.get("script"):
            problems.append((action, Advice(f"{without_script(action)}: "
                                            f"{WITHOUT_SCRIPT[action]}")))
    if values.get("type") == "simple" and script_rule(values.get("start")) is False:
        problems.append(("start", "a simple app needs a start command: the foreground "
                                  "process the agent starts and tracks"))
    return problems


CHECKS = [("app", _problems)]


def _refuse_netns(value: str) -> str | None:
    if value.strip():
        return ("not supported: an app's netns is the network namespace of an ip of type cni "
                "or of a container, which this orchestrator does not give apps; remove it")
    return None


def _no_effect(what: str) -> str:
    return f"Accepted, no effect: {what}"


_WHEN = {"pre": "before", "post": "after"}

ROWS: list[Keyword] = [
    _kw("app", "type", t.choice(*DRIVERS["app"].types), "forking",
        "forking: start and stop are commands that return (a daemon forks); simple: start "
        "is a foreground process the agent starts detached and tracks with a pidfile (status "
        "up while it lives; stop SIGTERMs it, SIGKILL after stop_timeout)."),
    _kw("app", "script", t.to_string, None,
        "The app launcher, called with start, stop, status or info as its argument when that "
        "keyword is true or an order number. A name without / is looked up in "
        "<root>/etc/orchestrator/services/<svc>.d/ (v2's <name>.d)."),
    _kw("app", "start", t.to_string, None,
        "true (or an order number such as 10): run `script start`; false: nothing; else the "
        "command that starts the app (simple: the foreground process). Order numbers start "
        "those apps first, by number; stop runs in the reverse order."),
    _kw("app", "stop", t.to_string, None,
        "true: run `script stop`; false: nothing; else the command that stops the app. "
        "simple: unset signals the tracked process (and after a stop command that leaves it "
        "running)."),
    _kw("app", "check", t.to_string, None,
        "true: run `script status`; false: nothing; else the command whose exit code, read "
        "through retcodes, gives the status. Unset: forking shows what its last start/stop "
        "did here; simple shows whether its process lives."),
    _kw("app", "info", t.to_string, None,
        "true: run `script info`; else a command printing key: value lines pushed as the "
        "resource's info."),
    _kw("app", "retcodes", t.to_retcodes, t.to_retcodes("0:up 1:down"),
        "The check's exit codes as CODE:STATUS rules (status up, down, warn, n/a, undef); "
        "an exit code not listed is warn."),
    _kw("app", "status_log", t.to_bool, False,
        "The check's output lines are shown in the resource's status (print status reason)."),
    _kw("app", "kill", t.choice("tree", "parent"), "tree",
        "simple, when stop signals the process: tree signals its process group and every "
        "process it started (om3's behaviour); parent only the process itself (v2's default)."),
    _kw("app", "timeout", t.to_duration, None,
        "Timeout of the app's commands, unless the action's own timeout is set. Unset: start "
        "and stop commands wait forever, the check 30s, info 30s, a simple app's stop 5s."),
    _kw("app", "start_timeout", t.to_duration, None, "Timeout of the start command and its hooks."),
    _kw("app", "stop_timeout", t.to_duration, None,
        "Timeout of the stop command and its hooks; simple: delay between SIGTERM and SIGKILL."),
    _kw("app", "check_timeout", t.to_duration, None,
        "Timeout of the check command (past it: warn)."),
    _kw("app", "info_timeout", t.to_duration, None, "Timeout of the info command."),
    *[_kw("app", f"{block}{when}_{action}", t.to_string, None,
          f"Command run {_WHEN[when]} the {action} (the app's user, env and limits); "
          + ("its failure fails the action." if block else "its failure is logged only."))
      for action in ("start", "stop") for when in ("pre", "post") for block in ("blocking_", "")],
    _kw("app", "start_requires", t.to_requirements, (),
        "rid(state,...) ...: the start fails unless these resources are in these states "
        "(no states = up,stdby up)."),
    _kw("app", "stop_requires", t.to_requirements, (),
        "rid(state,...) ...: the stop fails unless these resources are in these states."),
    _kw("app", "standby", t.to_bool, False,
        "Started on passive nodes too; its status reads stdby up / stdby down."),
    _kw("app", "desc", t.to_string, None, "A label shown in the status (rpc.idmapd)."),
    *[_kw("app", n, c, d, doc) for n, c, d, doc in EXECUTION_COMMON],
    _kw("app", "configs_environment", t.to_shlex_list, (),
        _no_effect("VAR=cfg/key of OpenSVC config objects; there are none here, so no "
                   "variable is set. Use environment.")),
    _kw("app", "secrets_environment", t.to_shlex_list, (),
        _no_effect("VAR=sec/key of OpenSVC secret objects; there are none here, so no "
                   "variable is set. Use environment.")),
    *limit_rows("app"),
    _kw("app", "netns", t.to_string, None,
        "Refused unless empty: om3 runs the app in the netns of an ip (type cni) or a "
        "container, which are not supported here.", refuse=_refuse_netns),
    *[_kw("app", n, c, d, doc) for n, c, d, doc in RESOURCE_COMMON],
]
