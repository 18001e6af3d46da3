"""How a task's command runs: argv vs shell, identity, cwd, umask, environment, timeout,
exit codes, hooks, on_error, records and per-run logs. All through the real CLI."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def one_task(node, body: str, svc: str = "svc", extra: str = "") -> None:
    node.write(svc, f"{extra}\n[task#0]\n{body}\n")


def test_no_shell_without_markers(node):
    one_task(node, "command = /bin/echo $HOME 'two  words' >out")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    assert res.out == "$HOME two  words >out\n"


def test_shell_with_markers(node, tmp_path):
    for i, cmd in enumerate(["echo one | tr o O", "true && echo $USER", "echo a; echo b"]):
        one_task(node, f"command = {cmd}", svc=f"s{i}")
    outs = [node.svcmgr("-s", f"s{i}", "run").out for i in range(3)]
    assert outs == ["One\n", "root\n", "a\nb\n"]


def test_percent_not_interpolated(node):
    one_task(node, "command = date +%F")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    assert res.out == time.strftime("%Y-%m-%d") + "\n"


def test_task_environment(node):
    one_task(node, 'command = env\nenvironment = FOO=bar "BAZ=two words"')
    res = node.svcmgr("-s", "svc", "run", env={"LEAK_ME": "1"})
    assert res.rc == 0, res.err
    env = dict(line.split("=", 1) for line in res.out.splitlines())
    run = node.runs("svc")[0]
    assert env["ORCHESTRATOR_SVCNAME"] == env["OPENSVC_SVCNAME"] == "svc"
    assert env["ORCHESTRATOR_RID"] == env["OPENSVC_RID"] == "task#0"
    assert env["ORCHESTRATOR_RUN_ID"] == run["run_id"]
    assert env["ORCHESTRATOR_ORIGIN"] == "manual"
    assert env["FOO"] == "bar" and env["BAZ"] == "two words"
    assert "LEAK_ME" not in env


def test_references_expand(node):
    one_task(node, "command = /bin/echo {svcname} {nodename} {env.GREETING} {env.FROM_OS}",
             extra="[env]\nGREETING = hello\n")
    res = node.svcmgr("-s", "svc", "run", env={"FROM_OS": "os"})
    assert res.rc == 0, res.err
    assert res.out == "svc n1 hello os\n"


def test_node_scoped_keyword_wins(node):
    node.write("svc", """
        [task#0]
        command@n1 = /bin/echo mine
        command = /bin/echo generic
        command@n2 = /bin/echo other
        """)
    assert node.svcmgr("-s", "svc", "run").out == "mine\n"
    assert node.svcmgr("-s", "svc", "run", env={"ORCHESTRATOR_NODE": "n3"}).out == "generic\n"


def test_cwd_and_umask(node, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    one_task(node, f"command = /bin/sh -c 'pwd; umask; touch f'\ncwd = {work}\numask = 027")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    assert res.out.split() == [str(work), "0027"]
    assert (work / "f").stat().st_mode & 0o777 == 0o640


def test_user_impersonation_as_nobody(node):
    one_task(node, "command = id -u -n; id -g; echo $HOME $USER $LOGNAME\nuser = nobody")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    assert res.out.splitlines() == ["nobody", "65534", "/nonexistent nobody nobody"]


def test_group_keyword(node):
    one_task(node, "command = id -u; id -g\ngroup = nogroup")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    assert res.out.split() == ["0", "65534"]


def test_unknown_user_fails_nothing_run(node, tmp_path):
    marker = tmp_path / "m"
    one_task(node, f"command = touch {marker}\nuser = no_such_user_x")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 1
    assert not marker.exists()
    assert any("no_such_user_x" in e for e in res.events())


def test_exit_code_propagation(node):
    one_task(node, "command = /bin/sh -c 'echo out; exit 3'")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 1
    assert res.out == "out\n"
    run = node.runs("svc")[0]
    assert (run["status"], run["exit_code"]) == ("failed", 3)
    assert any("exited with code 3" in e for e in res.events())


def test_command_not_found(node):
    one_task(node, "command = /no/such/binary")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 1
    assert "Traceback" not in res.err
    assert node.runs("svc")[0]["exit_code"] == 127


def test_failed_task_stops_manual_run(node):
    node.write("svc", "[task#0]\ncommand = /bin/false\n[task#1]\ncommand = /bin/true\n")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 1
    assert [r["rid"] for r in node.runs("svc")] == ["task#0"]
    assert "'run' action stopped on execution error: task#0" in res.events()[-1]


def test_optional_failure_does_not_fail(node):
    node.write("svc", "[task#0]\ncommand = /bin/false\noptional = true\n"
                      "[task#1]\ncommand = /bin/true\n")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    assert [r["status"] for r in node.runs("svc")] == ["failed", "ok"]


def test_disabled_task_not_run(node, tmp_path):
    marker = tmp_path / "m"
    node.write("svc", f"[task#0]\ncommand = touch {marker}\ndisable = true\n"
                      "[task#1]\ncommand = /bin/true\n")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    assert not marker.exists()
    assert [r["rid"] for r in node.runs("svc")] == ["task#1"]
    res = node.svcmgr("-s", "svc", "run", "--rid", "task#0")
    assert res.rc == 0 and not marker.exists()


def test_timeout_kills_process_group_and_grandchild(node, tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    one_task(node, f"command = sleep 60 & echo $! > {pidfile}; wait\ntimeout = 1\nkill_grace = 1")
    started = time.monotonic()
    res = node.svcmgr("-s", "svc", "run")
    elapsed = time.monotonic() - started
    assert res.rc == 1
    assert elapsed < 8
    run = node.runs("svc")[0]
    assert run["status"] == "timeout"
    pid = int(pidfile.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_timeout_sigkill_after_grace_when_sigterm_ignored(node, tmp_path):
    one_task(node, "command = trap '' TERM; sleep 30; echo done\ntimeout = 1\nkill_grace = 1")
    started = time.monotonic()
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 1
    assert 1.8 < time.monotonic() - started < 8
    assert node.runs("svc")[0]["status"] == "timeout"
    assert "done" not in res.out


def test_max_parallel_manual_runs_count(node):
    one_task(node, "command = sleep 3")
    first = node.popen("-s", "svc", "run")
    try:
        deadline = time.monotonic() + 5
        running = node.svc_var("svc") / "runs" / "running"
        while not (running.is_dir() and any(running.iterdir())):
            assert time.monotonic() < deadline, "first run never started"
            time.sleep(0.05)
        second = node.svcmgr("-s", "svc", "run")
        assert second.rc == 1
        assert any("already running" in e for e in second.events()), second.err
    finally:
        first.wait(timeout=10)
    assert first.returncode == 0
    statuses = sorted(r["status"] for r in node.runs("svc"))
    assert statuses == ["ok", "refused"]


def test_max_parallel_holds_after_svcmgr_is_sigkilled_while_its_command_goes_on(node, tmp_path):
    pidfile = tmp_path / "cmd.pid"
    one_task(node, f"command = sh -c 'echo $$ > {pidfile}; exec sleep 30'")
    first = node.popen("-s", "svc", "run")
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, "first run never started"
        time.sleep(0.05)
    command = int(pidfile.read_text())
    try:
        first.kill()  # SIGKILL: svcmgr gone, its command (own session) goes on
        first.wait(timeout=10)
        assert Path(f"/proc/{command}").exists()
        second = node.svcmgr("-s", "svc", "run")
        assert second.rc == 1
        assert any("already running" in e for e in second.events()), second.err
    finally:
        os.kill(command, signal.SIGKILL)
    statuses = {r["status"]: r for r in node.runs("svc")}  # settles the stale run
    assert set(statuses) == {"interrupted", "refused"}, statuses
    assert "command pid" in statuses["interrupted"]["reason"]


def test_max_parallel_two_allows_two(node):
    one_task(node, "command = sleep 1\nmax_parallel = 2")
    a, b = node.popen("-s", "svc", "run"), node.popen("-s", "svc", "run")
    assert a.wait(timeout=10) == 0 and b.wait(timeout=10) == 0
    assert [r["status"] for r in node.runs("svc")] == ["ok", "ok"]


def test_on_error_runs_only_on_failure(node, tmp_path):
    marker = tmp_path / "onerr"
    node.write("svc", f"""
        [task#ok]
        command = /bin/true
        on_error = /bin/sh -c 'echo ok >> {marker}'
        [task#ko]
        command = /bin/false
        on_error = /bin/sh -c 'echo $ORCHESTRATOR_RID >> {marker}'
        """)
    res = node.svcmgr("-s", "svc", "run", "--rid", "task#ok")
    assert res.rc == 0 and not marker.exists()
    res = node.svcmgr("-s", "svc", "run", "--rid", "task#ko")
    assert res.rc == 1
    assert marker.read_text() == "task#ko\n"


def test_hooks_order(node, tmp_path):
    trace = tmp_path / "trace"
    node.write("svc", f"""
        [task#0]
        command = /bin/sh -c 'echo cmd >> {trace}'
        pre_run = /bin/sh -c 'echo pre >> {trace}'
        blocking_pre_run = /bin/sh -c 'echo bpre >> {trace}'
        post_run = /bin/sh -c 'echo post >> {trace}'
        blocking_post_run = /bin/sh -c 'echo bpost >> {trace}'
        """)
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    assert trace.read_text().split() == ["bpre", "pre", "cmd", "post", "bpost"]


def test_non_blocking_hook_failures_only_warn(node, tmp_path):
    trace = tmp_path / "trace"
    one_task(node, f"command = /bin/sh -c 'echo cmd >> {trace}'\n"
                   "pre_run = /bin/false\npost_run = /bin/false")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0, res.err
    assert trace.read_text() == "cmd\n"
    levels = [e["level"] for e in res.logs() if "pre_run" in e["event"] or "post_run" in e["event"]]
    assert levels == ["warning", "warning"]


def test_blocking_pre_run_failure_aborts(node, tmp_path):
    trace = tmp_path / "trace"
    one_task(node, f"command = /bin/sh -c 'echo cmd >> {trace}'\nblocking_pre_run = /bin/false")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 1
    assert not trace.exists()
    assert node.runs("svc")[0]["status"] == "failed"


def test_blocking_post_run_failure_fails(node, tmp_path):
    trace = tmp_path / "trace"
    one_task(node, f"command = /bin/sh -c 'echo cmd >> {trace}'\nblocking_post_run = /bin/false")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 1
    assert trace.read_text() == "cmd\n"
    assert node.runs("svc")[0]["status"] == "failed"


def test_run_record_and_log_file(node):
    one_task(node, "command = /bin/echo hello")
    res = node.svcmgr("-s", "svc", "run")
    assert res.rc == 0
    runs = node.runs("svc")
    assert len(runs) == 1
    run = runs[0]
    keys = {"run_id", "rid", "node", "origin", "scheduled_at", "started_at", "ended_at",
            "exit_code", "status"}
    assert keys <= set(run)
    assert (run["rid"], run["node"], run["origin"], run["exit_code"], run["status"]) == (
        "task#0", "n1", "manual", 0, "ok")
    assert run["scheduled_at"] is None
    assert run["started_at"] <= run["ended_at"]
    assert "+00:00" in run["started_at"]
    log = node.svc_var("svc") / "runs" / "task#0" / f"{run['run_id']}.log"
    assert log.read_text() == "hello\n"


def test_print_runs_rid_filter_and_order(node):
    node.write("svc", "[task#0]\ncommand = /bin/true\n[task#1]\ncommand = /bin/true\n")
    for _ in range(2):
        assert node.svcmgr("-s", "svc", "run").rc == 0
    allruns = node.runs("svc")
    assert [r["rid"] for r in allruns] == ["task#0", "task#1", "task#0", "task#1"]
    assert [r["run_id"] for r in allruns] == sorted(r["run_id"] for r in allruns)
    assert [r["rid"] for r in node.runs("svc", "--rid", "task#1")] == ["task#1", "task#1"]
    text = node.svcmgr("-s", "svc", "print", "runs")
    assert text.rc == 0 and text.out.splitlines()[0].startswith("RUN ID")
    assert len(text.out.splitlines()) == 5


def test_check_last_run_status(node):
    node.write("svc", """
        [task#0]
        command = /bin/sh -c 'exit $(cat {env.FLAG})'
        check = last_run
        optional = true
        [task#1]
        command = /bin/true
        """.replace("{env.FLAG}", str(node.root / "flag")))
    node.root.joinpath("flag").write_text("0")
    assert node.status("svc")["resources"]["task#0"]["status"] == "n/a"
    assert node.svcmgr("-s", "svc", "run").rc == 0
    st = node.status("svc")
    assert st["resources"]["task#0"]["status"] == "up"
    assert st["resources"]["task#1"]["status"] == "n/a"
    node.root.joinpath("flag").write_text("1")
    assert node.svcmgr("-s", "svc", "run").rc == 0
    st = node.status("svc")
    assert st["resources"]["task#0"]["status"] == "down"
    assert st["overall"] == "warn"


def test_run_as_non_root_asking_for_other_user(node, tmp_path):
    """svcmgr itself running as nobody: asking for root is refused, nothing runs."""
    import shutil
    import subprocess
    import sys
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="orch-nonroot-", dir="/tmp"))
    try:
        os.chmod(root, 0o755)
        services = root / "etc" / "orchestrator" / "services"
        services.mkdir(parents=True)
        marker = root / "marker"
        (services / "svc.conf").write_text(f"[task#0]\ncommand = touch {marker}\nuser = root\n"
                                           f"[task#1]\ncommand = touch {marker}.ok\n")
        subprocess.run(["chown", "-R", "nobody:nogroup", str(root)], check=True)
        site = next(Path(sys.prefix, "lib").glob("python3*/site-packages"))
        repo = Path(__file__).resolve().parents[2]
        code = (f"import sys; sys.path[:0] = [{str(repo)!r}, {str(site)!r}]; sys.argv[0] = 'svcmgr'; "
                "from orchestrator.cli.svcmgr import main; sys.exit(main())")
        env = dict(node.env, ORCHESTRATOR_ROOT=str(root), HOME="/")
        # the venv's interpreter lives under /root, unreachable for nobody: use the system one
        py = shutil.which("python3", path="/usr/bin:/bin")
        res = node.run([py, "-c", code, "-s", "svc", "run", "--rid", "task#0"], env=env,
                       user=65534, group=65534, extra_groups=[], cwd="/")
        assert res.rc == 1, (res.out, res.err)
        assert not marker.exists()
        assert any("cannot run as user 'root': impersonation requires root" in e
                   for e in res.events()), res.err
        res = node.run([py, "-c", code, "-s", "svc", "run", "--rid", "task#1"], env=env,
                       user=65534, group=65534, extra_groups=[], cwd="/")
        assert res.rc == 0, res.err
        assert Path(f"{marker}.ok").stat().st_uid == 65534
    finally:
        shutil.rmtree(root, ignore_errors=True)
