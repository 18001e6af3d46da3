"""node.conf: the kernel watchdog keywords, validated like every other keyword."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config.errors import ConfigError
from orchestrator.config.node import NodeConfig, load_node_config
from orchestrator.paths import NodePaths


def _write(tmp_path: Path, text: str) -> NodePaths:
    paths = NodePaths(tmp_path)
    paths.node_conf.parent.mkdir(parents=True, exist_ok=True)
    paths.node_conf.write_text(text)
    return paths


def test_watchdog_defaults_off(tmp_path: Path) -> None:
    node = load_node_config(NodePaths(tmp_path))  # no node.conf at all
    assert node.watchdog == "off"
    assert node.watchdog_device == "/dev/watchdog"
    assert node.get("node", "watchdog") == "off"
    assert NodeConfig("n1", NodePaths(tmp_path), {}).watchdog == "off"  # hand-made configs


@pytest.mark.parametrize("mode", ["off", "automatic", "required"])
def test_watchdog_modes(tmp_path: Path, mode: str) -> None:
    paths = _write(tmp_path, f"[node]\nwatchdog = {mode}\nwatchdog_device = /dev/watchdog1\n")
    node = load_node_config(paths)
    assert node.watchdog == mode
    assert node.watchdog_device == "/dev/watchdog1"


def test_bad_watchdog_mode_is_one_line_naming_file_keyword_value(tmp_path: Path) -> None:
    paths = _write(tmp_path, "[node]\nname = n1\nwatchdog = sometimes\n")
    with pytest.raises(ConfigError) as info:
        load_node_config(paths)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{paths.node_conf}:3: [node] watchdog = sometimes: ")
    assert "expected one of: off, automatic, required" in message


def test_bad_watchdog_device(tmp_path: Path) -> None:
    paths = _write(tmp_path, "[node]\nwatchdog_device = dev/watchdog\n")
    with pytest.raises(ConfigError) as info:
        load_node_config(paths)
    assert str(info.value) == (f"{paths.node_conf}:2: [node] watchdog_device = dev/watchdog: "
                               "invalid string: expected an absolute path like /dev/watchdog")


def test_watchdog_is_not_a_service_keyword_elsewhere(tmp_path: Path) -> None:
    paths = _write(tmp_path, "[cluster]\nwatchdog = required\n")
    with pytest.raises(ConfigError, match=r"\[cluster\] watchdog = required: unknown keyword"):
        load_node_config(paths)
