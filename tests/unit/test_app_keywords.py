"""The app driver's pure parts: how start/stop/check values read (script, true, order
numbers), the order apps start in, retcodes, OpenSVC's sizes and durations in limit_*, and
the config problems validate reports (exit 2)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator.config import types as t
from orchestrator.config.errors import ConfigError
from orchestrator.config.service import parse_service
from orchestrator.config.tables.app import order_number, script_rule
from orchestrator.paths import NodePaths
from orchestrator.resources.app_actions import (
    ScriptMissing,
    ScriptUnset,
    command_of,
    start_key,
    timeout_of,
)
from orchestrator.resources.commands import command_spec


def app(body: str, rid: str = "app#0", extra: str = ""):
    cfg = parse_service(f"[{rid}]\n{body}\n{extra}", "/x/svc.conf", "svc", "n1")
    return cfg.resources[rid]


def service(root: Path):
    return SimpleNamespace(name="svc", node=SimpleNamespace(paths=NodePaths(root)),
                           nodename="n1")


@pytest.mark.parametrize("value, rule", [
    (None, False), ("", False), ("false", False), ("0", False), ("F", False), ("off", False),
    ("true", True), ("True", True), ("1", True), ("t", True), ("yes", True), ("10", True),
    ("5", True), ("/bin/true", None), ("sleep 10", None), ("yes please", None),
])
def test_script_rule(value, rule):
    assert script_rule(value) is rule


@pytest.mark.parametrize("value, number", [
    ("10", 10), ("05", 5), ("5", 5), ("1", None), ("0", None), ("true", None),
    ("/bin/true", None), (None, None), (" 20 ", 20),
])
def test_order_number(value, number):
    assert order_number(value) == number


def test_script_actions_resolve_to_script_and_argument(tmp_path):
    svc = service(tmp_path)
    script = tmp_path / "ctl.sh"
    script.write_text("#!/bin/sh\n")
    rc = app(f"script = {script}\nstart = true\nstop = 20\ncheck = true\ninfo = false")
    assert command_of(svc, rc, "start") == f"{script} start"
    assert command_of(svc, rc, "stop") == f"{script} stop"
    assert command_of(svc, rc, "check") == f"{script} status"  # om3: the status argument
    assert command_of(svc, rc, "info") is None
    plain = app("start = /usr/bin/env A=1 true")
    assert command_of(svc, plain, "start") == "/usr/bin/env A=1 true"
    assert command_of(svc, plain, "stop") is None


def test_a_script_basename_lives_in_the_services_d_directory(tmp_path):
    svc = service(tmp_path)
    rc = app("script = ctl.sh\nstart = true\nstop = true")
    with pytest.raises(ScriptMissing, match="ctl.sh does not exist"):
        command_of(svc, rc, "start")
    where = tmp_path / "etc" / "orchestrator" / "services" / "svc.d"
    where.mkdir(parents=True)
    (where / "ctl.sh").write_text("#!/bin/sh\n")
    assert command_of(svc, rc, "stop") == f"{where / 'ctl.sh'} stop"


def test_each_action_timeout_falls_back_to_timeout_then_its_default():
    rc = app("start = a\ntimeout = 1m\nstop_timeout = 5s")
    assert timeout_of(rc, "start") == 60 and timeout_of(rc, "stop") == 5
    bare = app("start = a")
    assert timeout_of(bare, "start") is None and timeout_of(bare, "stop") is None
    assert timeout_of(bare, "check") == 30 and timeout_of(bare, "info") == 30


def test_apps_start_by_order_number_then_by_rid():
    text = ("[app#b]\nstart = x\n[app#10]\nstart = x\n[app#2]\nstart = x\n"
            "[app#late]\nscript = /s\nstart = 30\n[app#early]\nscript = /s\nstart = 05\n"
            "[app#mid]\nscript = /s\nstart = 10\n[app#t]\nscript = /s\nstart = true\n")
    cfg = parse_service(text, "/x/svc.conf", "svc", "n1")
    order = sorted(cfg.resources.values(), key=start_key)
    assert [r.rid for r in order] == ["app#early", "app#mid", "app#late",
                                      "app#2", "app#10", "app#b", "app#t"]


def test_retcodes():
    codes = t.to_retcodes("0:up 1:down 3:warn 4:n/a 5:undef")
    assert [codes.status(c) for c in range(7)] == ["up", "down", None, "warn", "n/a", "undef",
                                                  None]
    assert str(codes) == "0:up 1:down 3:warn 4:n/a 5:undef"
    default = app("start = a")["retcodes"]
    assert (default.status(0), default.status(1), default.status(2)) == ("up", "down", None)
    for bad in ("0:up 1:sideways", "0=up", "x:up", "", "4: n/a"):
        with pytest.raises(ValueError):
            t.to_retcodes(bad)


@pytest.mark.parametrize("text, value", [
    ("1024", 1024), ("4k", 4096), ("1g", 1 << 30), ("1G", 1 << 30), ("1GiB", 1 << 30),
    ("2GB", 2 * 10**9), ("1.5m", 3 << 19), ("-1", -1), ("unlimited", -1),
])
def test_limit_sizes(text, value):
    assert t.to_limit_size(text) == value


@pytest.mark.parametrize("text, value", [("1h", 3600), ("30", 30), ("1m30s", 90),
                                         ("1500ms", 1), ("unlimited", -1)])
def test_limit_cpu_is_a_duration_in_seconds(text, value):
    assert t.to_limit_seconds(text) == value


def test_limits_reach_the_command_spec_in_kernel_units(tmp_path):
    rc = app("start = a\nlimit_as = 1g\nlimit_cpu = 1h\nlimit_nofile = 1024\nlimit_vmem = 2g")
    spec = command_spec(SimpleNamespace(name="svc", nodename="n1"), rc, "a", "start")
    # limit_as and limit_vmem are one rlimit: om3 applies the larger
    assert dict(spec.limits) == {"as": 2 << 30, "cpu": 3600, "nofile": 1024}
    task = parse_service("[task#0]\ncommand = a\nlimit_as = 512m\nlimit_cpu = 2m\n",
                         "/x/svc.conf", "svc", "n1").resources["task#0"]
    assert (task["limit_as"], task["limit_cpu"]) == (512 << 20, 120)


@pytest.mark.parametrize("body, problem", [
    ("type = simple", "[app#0] start: a simple app needs a start command"),
    ("type = simple\nstart = false", "[app#0] start = false: a simple app needs a start"),
    ("start = a\nretcodes = 0:up 2:sideways", "retcodes = 0:up 2:sideways: invalid retcodes"),
    ("start = a\nlimit_nofile = many", "limit_nofile = many: invalid size or count"),
    ("start = a\nlimit_cpu = forever", "limit_cpu = forever: invalid duration (seconds)"),
    ("start = a\nkill = group", "kill = group: invalid tree | parent"),
    ("start = a\ntype = oneshot", "oneshot"),
    ("start = a\nnetns = ip#0", "netns = ip#0: not supported"),
])
def test_config_problems_are_one_line_each(body, problem):
    with pytest.raises(ConfigError) as err:
        app(body)
    assert len(err.value.problems) == 1, str(err.value)
    assert problem in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("body, warning", [
    ("start = true", "[app#0] start = true: means 'run <script> start', but script is not set: "
                     "the start fails"),
    ("start = 10\nscript =", "[app#0] start = 10: means 'run <script> start'"),
    ("start = a\ncheck = true", "[app#0] check = true: means 'run <script> status', but script "
                                "is not set: the status is undef"),
    # om3's testdata svcappforking.conf, [app#stopScriptUndef]
    ("type = forking\nstop = true\nscript =", "[app#0] stop = true: means 'run <script> stop', "
                                             "but script is not set: the stop runs nothing"),
    ("info = true", "[app#0] info = true: means 'run <script> info', but script is not set"),
])
def test_a_true_action_without_script_is_valid_and_warned_of(body, warning):
    """om3 reads such a file and fails the action when it runs; validate says so first."""
    cfg = parse_service(f"[app#0]\n{body}\n", "/x/svc.conf", "svc", "n1")
    assert [str(w) for w in cfg.warnings if warning in str(w)], [str(w) for w in cfg.warnings]
    assert len(cfg.warnings) == 1


def test_a_true_action_without_script_raises_script_unset(tmp_path):
    svc = service(tmp_path)
    rc = app("stop = true\nscript =\ncheck = T")
    for action, arg in (("stop", "stop"), ("check", "status")):
        with pytest.raises(ScriptUnset, match=f"means 'run <script> {arg}', but script is not"):
            command_of(svc, rc, action)
    assert command_of(svc, rc, "start") is None  # start unset: nothing, no script needed


def test_om3_keywords_are_accepted():
    rc = app("type = simple\nstart = /bin/sleep 10\nstatus_log = true\ninfo_timeout = 5\n"
             "configs_environment = A=cfg/a\nsecrets_environment = sec1/*\ndesc = web\n"
             "pre_start = a\nblocking_post_stop = b\nstart_requires = app#0(up)\n"
             "umask = 022\ncwd = /tmp")
    assert rc["type"] == "simple" and rc["status_log"] is True and rc["kill"] == "tree"
    assert rc["configs_environment"] == ("A=cfg/a",) and rc["umask"] == 0o22
    assert app("start = a")["type"] == "forking"
