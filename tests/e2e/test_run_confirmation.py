"""The seed page's three confirmation transcripts, on a real terminal, and the
non-interactive paths (--confirm, no TTY, --cron)."""

from __future__ import annotations

from e2e_support import SVCMGR, transcript_regex

SEED = """
[task#0]
command = /bin/true
confirmation = true
"""

PROMPT = ("This task run requires confirmation.\n"
          "Please make sure you fully understand its role and effects before confirming the run.\n"
          "Do you really want to run task#0 (yes/no) > ")


def test_no_answer_aborts_exit_1(node):
    node.write("testmd", SEED)
    rc, out = node.pty_svcmgr("-s", "testmd", "run", "--rid", "task#0", answer="no")
    assert rc == 1
    expected = PROMPT + ("no\nHH:MM:SS,mmm             ERROR   "
                         "'run' action stopped on execution error: run aborted\n")
    assert transcript_regex(expected).fullmatch(out), out
    runs = node.runs("testmd")
    assert [(r["rid"], r["status"], r["started_at"]) for r in runs] == [("task#0", "aborted", None)]


def test_any_other_answer_aborts(node):
    node.write("testmd", SEED)
    rc, out = node.pty_svcmgr("-s", "testmd", "run", answer="y")
    assert rc == 1
    assert out.endswith("'run' action stopped on execution error: run aborted\n"), out


def test_timeout_waiting_for_confirmation(node, tmp_path):
    node.write("testmd", SEED)
    link = tmp_path / "testmd"
    link.symlink_to(SVCMGR)
    rc, out = node.pty_run([str(link), "run"], env={"ORCHESTRATOR_CONFIRM_TIMEOUT": "1"})
    assert rc == 1
    expected = PROMPT + ("\nHH:MM:SS,mmm             ERROR   "
                         "'run' action stopped on execution error: "
                         "timeout waiting for confirmation\n")
    assert transcript_regex(expected).fullmatch(out), out


def test_yes_runs_and_logs(node, tmp_path):
    node.write("testmd", SEED)
    link = tmp_path / "testmd"
    link.symlink_to(SVCMGR)
    rc, out = node.pty_run([str(link), "run"], answer="yes")
    assert rc == 0, out
    expected = PROMPT + ("yes\n"
                         "HH:MM:SS,mmm task#0      INFO    run confirmed\n"
                         "HH:MM:SS,mmm task#0      INFO    /bin/true\n")
    assert transcript_regex(expected).fullmatch(out), out
    assert [r["status"] for r in node.runs("testmd")] == ["ok"]


def test_yes_propagates_failure(node):
    node.write("testmd", SEED.replace("/bin/true", "/bin/false"))
    rc, out = node.pty_svcmgr("-s", "testmd", "run", answer="yes")
    assert rc == 1, out
    assert "run confirmed" in out
    assert [(r["status"], r["exit_code"]) for r in node.runs("testmd")] == [("failed", 1)]


def test_confirm_flag_skips_prompt(node):
    node.write("testmd", SEED)
    res = node.svcmgr("-s", "testmd", "run", "--confirm")
    assert res.rc == 0, res.err
    assert "requires confirmation" not in res.out
    assert [r["status"] for r in node.runs("testmd")] == ["ok"]


def test_no_tty_aborts(node):
    node.write("testmd", SEED)
    res = node.svcmgr("-s", "testmd", "run")
    assert res.rc == 1
    assert "requires confirmation" not in res.out
    assert any("run aborted" in e for e in res.events())
    assert [r["status"] for r in node.runs("testmd")] == ["aborted"]


def test_cron_never_runs_confirmation_tasks(node, tmp_path):
    marker = tmp_path / "ran"
    node.write("testmd", f"""
        [task#0]
        command = touch {marker}
        confirmation = true
        """)
    res = node.svcmgr("-s", "testmd", "run", "--cron", "--confirm")
    assert res.rc == 0, res.err
    assert not marker.exists()
    assert [r["status"] for r in node.runs("testmd")] == ["skipped"]


def test_console_format_on_tty_without_confirmation(node):
    node.write("svc", "[task#0]\ncommand = /bin/true\n")
    rc, out = node.pty_svcmgr("-s", "svc", "run")
    assert rc == 0
    assert transcript_regex("HH:MM:SS,mmm task#0      INFO    /bin/true\n").fullmatch(out), out
