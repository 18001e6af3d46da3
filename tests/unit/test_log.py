"""orchestrator.log: the same line whether structlog is imported or not; structlog is
configured when some module imports it after ``configure()``; ``svcmgr run``'s modules never
import it. Each case runs in a fresh interpreter (structlog must start unimported)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60, cwd=REPO, env={"PATH": "/usr/bin:/bin"})


def test_native_and_structlog_lines_are_the_same(tmp_path: Path) -> None:
    logfile = tmp_path / "svc.log"
    out = python(f"""
        import sys
        from orchestrator import log
        log.configure(fmt="json")
        log.bind_service_log({str(logfile)!r})
        assert "structlog" not in sys.modules
        log.get_logger().bind(svc="web").info("hello %s", "there", rid="task#0")
        import structlog  # now configured by the import hook
        log.get_logger().bind(svc="web").info("hello %s", "there", rid="task#0")
        structlog.get_logger().bind(svc="web").info("hello there", rid="task#0")
        try:
            1 / 0
        except ZeroDivisionError:
            log.get_logger().exception("boom")
    """)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stderr.splitlines()]
    assert len(lines) == 4
    for line in lines[:3]:
        assert list(line) == ["svc", "rid", "event", "level", "timestamp"]
        assert (line["svc"], line["rid"], line["event"], line["level"]) == (
            "web", "task#0", "hello there", "info")
    assert lines[3]["level"] == "error" and "ZeroDivisionError" in lines[3]["exception"]
    written = [json.loads(line) for line in logfile.read_text().splitlines()]
    assert [w["event"] for w in written] == ["hello there"] * 3 + ["boom"]


def test_console_format_without_structlog() -> None:
    out = python("""
        import sys
        from orchestrator import log
        log.configure(fmt="console")
        log.get_logger().bind(svc="web", rid="task#0").warning("careful", extra=1)
        assert "structlog" not in sys.modules
    """)
    assert out.returncode == 0, out.stderr
    assert out.stderr.endswith(" task#0      WARNING careful extra=1\n"), out.stderr


def test_through_structlog_imports_and_configures_it() -> None:
    """The node agent and the fence keeper log through structlog's pipeline, with the same
    lines (their modules log through orchestrator.log like every other)."""
    out = python("""
        import sys
        from orchestrator import log
        log.configure(fmt="json", through_structlog=True)
        assert "structlog" in sys.modules
        log.get_logger().bind(svc="web").info("hello", rid="task#0")
    """)
    assert out.returncode == 0, out.stderr
    line = json.loads(out.stderr)
    assert list(line) == ["svc", "rid", "event", "level", "timestamp"]
    assert (line["svc"], line["event"]) == ("web", "hello")


def test_no_module_imports_structlog_but_the_log_module() -> None:
    """One way to log: orchestrator.log.get_logger (structlog behind it where asked for)."""
    offenders = []
    for path in (REPO / "orchestrator").rglob("*.py"):
        if path.name == "log.py" and path.parent.name == "orchestrator":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.strip().startswith(("import structlog", "from structlog")):
                offenders.append(f"{path.relative_to(REPO)}:{number}")
    assert offenders == []
