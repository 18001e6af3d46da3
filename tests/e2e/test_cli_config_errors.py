"""Malformed configs: one clear line per problem naming file, keyword and value; exit 2;
never a traceback. validate lists every error."""

from __future__ import annotations

import pytest

CASES = {
    "unknown_keyword": ("[task#0]\ncomand = /bin/true\ncommand = /bin/true\n",
                        ["svc.conf:2: [task#0] comand = /bin/true: unknown keyword 'comand' "
                         "(did you mean 'command'?)"]),
    "bad_value": ("[task#0]\ncommand = /bin/true\ntimeout = soon\n",
                  ["svc.conf:3: [task#0] timeout = soon: invalid duration"]),
    "bad_bool": ("[task#0]\ncommand = /bin/true\nconfirmation = maybe\n",
                 ["svc.conf:3: [task#0] confirmation = maybe: invalid boolean"]),
    "bad_choice": ("[DEFAULT]\ntopology = ring\n", ["svc.conf:2: [DEFAULT] topology = ring"]),
    "bad_schedule": ("[task#0]\ncommand = /bin/true\nschedule = 25:00-26:00\n",
                     ["svc.conf:3: [task#0] schedule = 25:00-26:00: invalid schedule"]),
    "bad_section": ("[task0]\ncommand = /bin/true\n", ["svc.conf:1: [task0]: bad section name"]),
    "unknown_driver": ("[tsak#0]\ncommand = 1\n", ["svc.conf:1: [tsak#0]: unknown resource driver"]),
    "unsupported_driver": ("[task#0]\ncomand = x\n[volume#0]\nsize = 1\n",
                           ["svc.conf:3: [volume#0]: driver volume is not supported"]),
    "multi_line_value": ("[task#0]\ncommand = /bin/true\ntimeout = 1m\n\t2m\n",
                         ["svc.conf:3: [task#0] timeout = 1m ... (+1 more line): invalid duration"]),
    "missing_required": ("[task#0]\ntags = a\n",
                         ["[task#0] command: required keyword is missing"]),
    "unresolved_env": ("[task#0]\ncommand = /bin/echo {env.NOPE_NOT_SET}\n",
                       ["svc.conf:2: [task#0] command = /bin/echo {env.NOPE_NOT_SET}: "
                        "unresolved reference {env.NOPE_NOT_SET}"]),
    "garbage_line": ("[task#0]\ncommand = /bin/true\njust words\n",
                     ["svc.conf:3: [task#0]: cannot parse line 'just words'"]),
    "bad_requires": ("[task#0]\ncommand = /bin/true\nrun_requires = app#0(upp)\n",
                     ["svc.conf:3: [task#0] run_requires = app#0(upp): invalid requirements"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("action", [["run"], ["validate", "config"], ["print", "status"]])
def test_malformed(node, case, action):
    text, expected = CASES[case]
    path = node.services / "svc.conf"
    path.write_text(text)
    res = node.svcmgr("-s", "svc", *action)
    assert res.rc == 2, (res.out, res.err)
    assert "Traceback" not in res.err
    lines = res.err.splitlines()
    assert all(line.startswith(f"error: {path}") for line in lines), res.err
    for want in expected:
        assert any(want in line for line in lines), (want, res.err)


def test_validate_lists_every_error(node):
    path = node.services / "svc.conf"
    path.write_text("[DEFAULT]\ntopology = ring\n[task#0]\ncomand = x\ntimeout = soon\n"
                    "[bad]\nx = 1\n")
    res = node.svcmgr("-s", "svc", "validate", "config")
    assert res.rc == 2
    lines = res.err.splitlines()
    assert len(lines) == 5, res.err  # topology, comand, timeout, [bad], missing command
    assert [line.split(":")[2] for line in lines] == sorted(line.split(":")[2] for line in lines)


def test_unreadable_file_directory(node):
    (node.services / "svc.conf").mkdir()
    for action in (["run"], ["validate", "config"], ["print", "config"]):
        res = node.svcmgr("-s", "svc", *action)
        assert res.rc == 2, (action, res.err)
        assert res.err.count("\n") == 1 and "svc.conf: cannot read" in res.err, res.err


def test_unreadable_file_invalid_utf8(node):
    (node.services / "svc.conf").write_bytes(b"[task#0]\ncommand = /bin/echo \xff\xfe\n")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 2
    assert res.err.count("\n") == 1 and "svc.conf: cannot read" in res.err, res.err
    assert "utf-8" in res.err.lower()


def test_bad_node_conf(node):
    conf = node.root / "etc" / "orchestrator" / "node.conf"
    conf.write_text("[node]\nnmae = x\n")
    node.write("svc", "[task#0]\ncommand = /bin/true\n")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 2
    assert "node.conf:2: [node] nmae = x: unknown keyword 'nmae' (did you mean 'name'?)" in res.err


def test_scoped_unscopable_keyword(node):
    node.write("svc", "[DEFAULT]\ntopology@n1 = flex\n[task#0]\ncommand = /bin/true\n")
    res = node.svcmgr("-s", "svc", "validate", "config")
    assert res.rc == 2 and "cannot be scoped" in res.err


def test_an_unsupported_driver_is_the_only_error(node):
    """The file needs a driver we lack: that is all it is told (its other sections' errors
    would follow from it, or hide it)."""
    path = node.write("svc", "[task#0]\ncomand = x\n[volume#0]\nsize = 1\n[ip#0]\ntype = cni\n")
    res = node.svcmgr("-s", "svc", "validate", "config")
    assert res.rc == 2
    assert res.err.splitlines() == [
        f"error: {path}:3: [volume#0]: driver volume is not supported (supported drivers: "
        f"{', '.join(sorted(_drivers()))})",
        f"error: {path}:5: [ip#0]: driver ip type cni is not supported (supported ip types: "
        "host)"]


def test_validate_warns_of_what_has_no_effect_and_of_repeats_and_exits_0(node):
    path = node.write("svc", "[DEFAULT]\napp = ERP\n[task#0]\ncommand = /bin/true\n"
                             "command = /bin/false\nshared = true\n[task#0]\nschedule = @10\n")
    res = node.svcmgr("-s", "svc", "validate", "config")
    assert res.rc == 0, res.err
    assert res.out.strip() == f"{path}: valid"
    assert res.err.splitlines() == [
        f"warning: {path}:2: [DEFAULT] app = ERP: accepted with no effect: the collector here "
        "groups services by cluster and node, not by app code",
        f"warning: {path}:5: [task#0] command: repeated keyword 'command' (first at line 4): "
        "the last value wins, as in OpenSVC",
        f"warning: {path}:6: [task#0] shared = true: accepted with no effect: there is no "
        "provision or unprovision action here",
        f"warning: {path}:7: [task#0]: repeated section [task#0] (first at line 3): read as one "
        "section, its keywords merged, as OpenSVC does"]


def _drivers() -> list[str]:
    from orchestrator.resources.registry import DRIVERS

    return list(DRIVERS)
