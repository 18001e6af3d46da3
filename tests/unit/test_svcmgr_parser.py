"""svcmgr parses a valid command line with its action's parser alone (start-up time): the
result must be the whole parser's, and anything else must go to the whole parser."""

from __future__ import annotations

import pytest

from orchestrator.cli.svcmgr import _ACTIONS, action_named, build_parser
from orchestrator.errors import UsageError

LINES = [
    ["-s", "svc1", "run", "--rid", "task#0"],
    ["--service", "svc1", "run", "--tags", "a+b", "--confirm", "--cron"],
    ["--service=svc1", "run", "--rid", "task#0,task#1", "--subsets", "s1"],
    ["-ssvc1", "print", "status", "--format", "json"],
    ["-s", "svc1", "print", "runs", "--rid", "task#0"],
    ["-s", "svc1", "validate", "config"],
    ["-s", "svc1", "create", "--config", "/tmp/x.conf"],
    ["-s", "svc1", "switch", "--to", "n2", "--wait", "5"],
    ["-s", "svc1", "start"],
    ["-s", "svc1", "compliance", "check"],
    ["-s", "svc1", "logs", "--rid", "task#0", "--run", "R", "--follow"],
    ["ls", "--format", "json"],
    ["-s", "svc1", "freeze"],
]


@pytest.mark.parametrize("argv", LINES, ids=lambda a: " ".join(a))
def test_the_action_alone_parses_as_the_whole_parser(argv: list[str]) -> None:
    only = action_named(argv)
    assert only is not None and only in argv[-6:]
    assert vars(build_parser(only=only).parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", [
    ["-h"], ["--help"], ["-s", "svc1", "--bogus", "run"], ["-s", "svc1", "runn"], [],
    ["-s", "svc1"], ["--", "run"],
])
def test_help_unknown_actions_and_options_go_to_the_whole_parser(argv: list[str]) -> None:
    assert action_named(argv) is None


@pytest.mark.parametrize("argv", [
    ["-s", "svc1", "run", "--bogus"], ["-s", "svc1", "print", "nothing"],
    ["-s", "svc1", "switch"], ["-s", "svc1", "runn"],
])
def test_bad_lines_fail_alike(argv: list[str]) -> None:
    errors = []
    for parser in (build_parser(only=action_named(argv)), build_parser()):
        with pytest.raises(UsageError) as caught:
            parser.parse_args(argv)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_the_whole_parser_lists_every_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for name, (text, _) in _ACTIONS.items():
        assert name in out and text.split()[0] in out, name
