"""CommandSpec validation: bad keyword values are reported before anything runs."""

from __future__ import annotations

import resource

import pytest

from orchestrator.execution import LIMITS, CommandSpec, SpecError


def test_defaults() -> None:
    spec = CommandSpec("true")
    assert spec.timeout is None and spec.kill_grace == 5.0
    assert dict(spec.environment) == {} and dict(spec.limits) == {}
    assert spec.rlimits() == []


def test_spec_is_immutable() -> None:
    spec = CommandSpec("true", environment={"A": "1"})
    with pytest.raises(AttributeError):
        spec.command = "false"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.environment["B"] = "2"  # type: ignore[index]


def test_limits_accept_keyword_names_and_unlimited() -> None:
    spec = CommandSpec("true", limits={"limit_nofile": 10, "core": 0, "vmem": -1})
    assert dict(spec.limits) == {"nofile": 10, "core": 0, "vmem": -1}
    assert sorted(spec.rlimits()) == sorted([
        (resource.RLIMIT_NOFILE, 10),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_AS, resource.RLIM_INFINITY),
    ])
    assert {"as", "core", "cpu", "data", "fsize", "memlock", "nofile", "nproc", "rss",
            "stack", "vmem"} <= set(LIMITS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"command": ""}, "empty"),
        ({"umask": 0o1000}, "invalid umask"),
        ({"umask": -1}, "invalid umask"),
        ({"timeout": 0}, "invalid timeout"),
        ({"timeout": -3}, "invalid timeout"),
        ({"kill_grace": -1}, "invalid kill grace"),
        ({"environment": {"A=B": "x"}}, "invalid environment variable name"),
        ({"environment": {"A": "x\0y"}}, "invalid value for environment variable A"),
        ({"limits": {"limit_bogus": 1}}, "unknown limit 'limit_bogus'"),
        ({"limits": {"nofile": -2}}, "invalid value for limit_nofile"),
        ({"limits": {"nofile": "10"}}, "invalid value for limit_nofile"),
        ({"cwd": " "}, "invalid cwd"),
    ],
)
def test_invalid_values(kwargs: dict, message: str) -> None:
    kwargs = {"command": "true", **kwargs}
    with pytest.raises(SpecError, match=message) as info:
        CommandSpec(**kwargs)
    assert info.value.exit_code == 2
