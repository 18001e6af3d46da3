"""Impersonation: user/group resolution, running as ``nobody``, refusals before anything runs.

The suite runs as root (the daemon does); the non-root refusal is exercised in a child
Python process that drops to ``nobody`` before calling the API.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.execution import (
    CommandSpec,
    CommandStartError,
    IdentityError,
    resolve_identity,
    run,
)

REPO = Path(__file__).resolve().parents[2]
NOBODY = pwd.getpwnam("nobody")


def test_suite_runs_as_root() -> None:
    # The impersonation tests below are meaningless otherwise: fail loudly, never skip.
    assert os.geteuid() == 0


def test_resolve_nobody_by_name_and_id() -> None:
    by_name = resolve_identity("nobody")
    by_id = resolve_identity(NOBODY.pw_uid)
    assert by_name == by_id
    assert by_name.uid == NOBODY.pw_uid
    assert by_name.gid == NOBODY.pw_gid  # the primary group when no group is given
    assert by_name.home == NOBODY.pw_dir and by_name.name == "nobody"
    assert by_name.switch
    assert NOBODY.pw_gid in by_name.groups


def test_resolve_with_group() -> None:
    ident = resolve_identity("nobody", "root")
    assert (ident.uid, ident.gid) == (NOBODY.pw_uid, 0)
    assert resolve_identity("nobody", "0") == ident


def test_resolve_nothing_is_current_identity() -> None:
    ident = resolve_identity()
    assert ident.uid == os.geteuid() and not ident.switch
    assert not resolve_identity("root").switch


def test_unknown_user_is_a_clear_error(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with pytest.raises(IdentityError, match="cannot run as user 'no_such_user_xyz': no such user"):
        run(CommandSpec(f"touch {tmp_path / 'ran'}", user="no_such_user_xyz"), log)
    assert not (tmp_path / "ran").exists()
    assert not log.exists()


def test_unknown_group_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="'no_such_group_xyz': no such group"):
        run(CommandSpec("true", user="nobody", group="no_such_group_xyz"), tmp_path / "log")


def test_numeric_uid_without_passwd_entry_needs_a_group(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="no passwd entry"):
        resolve_identity(54321)
    lines: list[str] = []
    result = run(CommandSpec("sh -c 'id -u; id -g'", user=54321, group=54321),
                 tmp_path / "log", on_line=lines.append)
    assert result.exit_code == 0
    assert lines == ["54321", "54321"]


def test_run_as_nobody(tmp_path: Path) -> None:
    lines: list[str] = []
    spec = CommandSpec("sh -c 'id -u; id -g; id -G; echo $HOME $USER $LOGNAME; pwd'",
                       user="nobody")
    result = run(spec, tmp_path / "log", on_line=lines.append)
    assert result.exit_code == 0, lines
    home = NOBODY.pw_dir
    assert lines[0] == str(NOBODY.pw_uid)
    assert lines[1] == str(NOBODY.pw_gid)
    assert "0" not in lines[2].split()  # root's supplementary groups were dropped
    assert lines[3] == f"{home} nobody nobody"
    assert lines[4] == (home if os.path.isdir(home) else "/")


def test_run_as_nobody_cannot_regain_root(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run(CommandSpec("sh -c 'grep -E \"^(Uid|Gid):\" /proc/self/status'", user="nobody"),
                 tmp_path / "log", on_line=lines.append)
    assert result.exit_code == 0
    for line in lines:  # real, effective, saved and fs ids all switched
        assert set(line.split()[1:]) == {str(NOBODY.pw_uid if line.startswith("Uid")
                                             else NOBODY.pw_gid)}


def test_cwd_is_entered_as_the_target_user(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(CommandStartError) as info:
        run(CommandSpec("pwd", user="nobody", cwd=str(private)), tmp_path / "log")
    assert "Permission denied" in str(info.value) and "nobody" in str(info.value)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A world-writable directory, so a process running as nobody may write there."""
    path = Path(tempfile.mkdtemp(prefix="exec-identity-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


CHILD = """
import os, sys
sys.path.insert(0, {repo!r})
from orchestrator.execution import CommandSpec, ImpersonationError, run
os.setgroups([])
os.setresgid({gid}, {gid}, {gid})
os.setresuid({uid}, {uid}, {uid})
marker, log, user = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    result = run(CommandSpec("touch " + marker, user=user), log)
except ImpersonationError as exc:
    print("REFUSED:", exc)
    sys.exit(exc.exit_code)
print("RAN", result.exit_code)
"""


def _as_nobody(shared: Path, user: str) -> subprocess.CompletedProcess[str]:
    code = CHILD.format(repo=str(REPO), uid=NOBODY.pw_uid, gid=NOBODY.pw_gid)
    return subprocess.run(
        [sys.executable, "-c", code, str(shared / "marker"), str(shared / "run.log"), user],
        capture_output=True, text=True, timeout=30, cwd="/",
    )


@pytest.mark.parametrize("user", ["root", "daemon", "0"])
def test_impersonation_refused_when_not_root(shared_dir: Path, user: str) -> None:
    proc = _as_nobody(shared_dir, user)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.strip() == (
        f"REFUSED: cannot run as user '{user}': impersonation requires root"
    )
    assert "Traceback" not in proc.stderr
    assert not (shared_dir / "marker").exists()  # nothing ran
    assert not (shared_dir / "run.log").exists()


def test_non_root_may_run_as_itself(shared_dir: Path) -> None:
    proc = _as_nobody(shared_dir, "nobody")
    assert proc.stdout.strip() == "RAN 0", proc.stderr
    assert (shared_dir / "marker").stat().st_uid == NOBODY.pw_uid
