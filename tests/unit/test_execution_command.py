"""The shell rule: ``|``, ``&&`` or ``;`` -> /bin/sh -c; otherwise shlex split and exec'ed."""

from __future__ import annotations

import pytest

from orchestrator.errors import UsageError
from orchestrator.execution import CommandSpec, CommandSyntaxError, build_argv, needs_shell, run


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("echo hello", ["echo", "hello"]),
        ("echo 'a b' \"c d\"", ["echo", "a b", "c d"]),
        ("  /bin/true  ", ["/bin/true"]),
        (r"printf a\ b", ["printf", "a b"]),
        ("echo $HOME > out", ["echo", "$HOME", ">", "out"]),
        ("ls | wc -l", ["/bin/sh", "-c", "ls | wc -l"]),
        ("true && echo ok", ["/bin/sh", "-c", "true && echo ok"]),
        ("cd /tmp; ls", ["/bin/sh", "-c", "cd /tmp; ls"]),
        ("false || echo x", ["/bin/sh", "-c", "false || echo x"]),
    ],
)
def test_build_argv(command: str, argv: list[str]) -> None:
    assert build_argv(command) == argv
    assert needs_shell(command) == (argv[:2] == ["/bin/sh", "-c"])


@pytest.mark.parametrize("command", ["echo 'unbalanced", 'echo "x', "echo x\\"])
def test_malformed_command_names_the_command(command: str) -> None:
    with pytest.raises(CommandSyntaxError) as info:
        build_argv(command)
    assert command in str(info.value)
    assert isinstance(info.value, UsageError)
    assert info.value.exit_code == 2


@pytest.mark.parametrize("command", ["", "   "])
def test_empty_command(command: str) -> None:
    with pytest.raises(CommandSyntaxError, match="empty"):
        build_argv(command)


def test_direct_exec_does_not_expand(tmp_path) -> None:
    lines: list[str] = []
    result = run(CommandSpec("echo $HOME *"), tmp_path / "log", on_line=lines.append)
    assert result.exit_code == 0
    assert lines == ["$HOME *"]


def test_shell_command_runs_through_sh(tmp_path) -> None:
    lines: list[str] = []
    spec = CommandSpec("echo one; echo $X | tr a-z A-Z", environment={"X": "two"})
    result = run(spec, tmp_path / "log", on_line=lines.append)
    assert result.exit_code == 0
    assert result.argv[:2] == ("/bin/sh", "-c")
    assert lines == ["one", "TWO"]


def test_shell_exit_code_and_and(tmp_path) -> None:
    result = run(CommandSpec("false && echo never"), tmp_path / "log")
    assert result.exit_code == 1
    assert (tmp_path / "log").read_text() == ""
