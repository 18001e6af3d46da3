"""The engine arguments a container resource or task gets from its keywords (om3's
executor_args rules), and which engine ``oci`` picks among real executables on PATH."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from orchestrator.config.node import load_node_config
from orchestrator.config.service import parse_service
from orchestrator.paths import NodePaths
from orchestrator.resources import container_engine
from orchestrator.resources.container_args import ArgsError, run_args, task_container_name
from orchestrator.resources.listing import Listing
from orchestrator.service import Service

IMAGE = "localhost/testbox:latest"


def service(tmp_path: Path, text: str) -> Service:
    return Service(parse_service(text, "/x/svc1.conf", "svc1", "n1"),
                   load_node_config(NodePaths(tmp_path)))


def args_of(tmp_path: Path, body: str, rid: str = "container#1", engine: str = "podman",
            **kw) -> list[str]:
    svc = service(tmp_path, f"[container#0]\nimage = {IMAGE}\n\n[{rid}]\nimage = {IMAGE}\n"
                  + body)
    rc = svc.resource(rid)
    options = {"detach": True, "remove": False, "environment": {}} | kw
    return run_args(svc, rc, "NAME", engine=engine, **options)


def test_om3_defaults_a_private_netns_and_the_image_then_the_command_last(tmp_path):
    a = args_of(tmp_path, "command = /bin/sh -c 'echo a; exit 3'\n")
    assert a[:5] == ["run", "--name", "NAME", "--detach", "--network"]
    assert a[5] == "none"  # never the engine's default bridge
    assert a[-4:] == [IMAGE, "/bin/sh", "-c", "echo a; exit 3"]
    assert a[a.index("--label"):][:2] == ["--label", "orchestrator.service=svc1"]


def test_keywords_win_over_the_same_options_in_run_args(tmp_path):
    a = args_of(tmp_path, "netns = container#0\nhostname = h1\n"
                "run_args = --net=host -d --hostname other --name x -v /a:/b --ulimit nofile=9\n")
    assert a[a.index("--network") + 1] == "container:svc1.container.0"
    assert "--net=host" not in a and "other" not in a and "x" not in a
    assert a.count("--detach") == 1 and "-d" not in a
    tail = a[a.index("-v"):]
    assert tail[:4] == ["-v", "/a:/b", "--ulimit", "nofile=9"]  # the rest of run_args, last


def test_a_network_in_run_args_is_kept_when_netns_is_empty(tmp_path):
    a = args_of(tmp_path, "run_args = --network testnet\n")
    assert "none" not in a and a[a.index("--network") + 1] == "testnet"


def test_namespaces_user_group_mounts_limits_and_environment(tmp_path):
    svc = service(tmp_path, f"[container#0]\nimage = {IMAGE}\n\n[task#0]\ntype = podman\n"
                  f"image = {IMAGE}\ncommand = id\nuser = nobody\ngroup = nogroup\ncwd = /tmp\n"
                  "pidns = container#0\nipcns = shareable\nutsns = host\nuserns = keep-id\n"
                  "volume_mounts = /srv/a:/a /srv/b:/b:ro\ndevices = /dev/fuse:/dev/fuse\n"
                  "init = true\nread_only = true\n")
    a = run_args(svc, svc.resource("task#0"), "T", engine="podman", detach=False, remove=True,
                 environment={"A": "1 2"}, labels={"orchestrator.run_id": "r1"},
                 limits={"nofile": 512, "vmem": -1})
    pairs = {a[i]: a[i + 1] for i in range(len(a) - 1) if a[i].startswith("--")}
    assert pairs["--user"] == "nobody:nogroup" and pairs["--workdir"] == "/tmp"
    assert pairs["--pid"] == "container:svc1.container.0" and pairs["--ipc"] == "shareable"
    assert pairs["--uts"] == "host" and pairs["--userns"] == "keep-id"
    assert [x for i, x in enumerate(a) if x == "--volume" or a[i - 1] == "--volume"] == \
        ["--volume", "/srv/a:/a:rw", "--volume", "/srv/b:/b:ro"]
    assert "--ulimit" in a and "nofile=512:512" in a and "as=-1:-1" in a
    assert "--env" in a and "A=1 2" in a and "orchestrator.run_id=r1" in a
    assert "--rm" in a and "--init" in a and "--read-only=true" in a and "--detach" not in a
    assert a[-2:] == [IMAGE, "id"]


def test_docker_takes_userns_host_only(tmp_path):
    assert "--userns" in args_of(tmp_path, "userns = host\n", engine="docker")
    with pytest.raises(ArgsError, match="docker accepts host only"):
        args_of(tmp_path, "userns = keep-id\n", engine="docker")


def test_a_task_run_has_a_container_of_its_own(tmp_path):
    svc = service(tmp_path, f"[task#db]\ntype = oci\nimage = {IMAGE}\nname = backup\n")
    assert task_container_name(svc, svc.resource("task#db"), "R1") == "backup.R1"
    svc = service(tmp_path, f"[task#db]\ntype = oci\nimage = {IMAGE}\n")
    assert task_container_name(svc, svc.resource("task#db"), "R1") == "svc1.task.db.R1"


def executable(path: Path, text: str) -> None:
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", str(directory))
    monkeypatch.setattr(container_engine, "_genuine", {})
    monkeypatch.setattr(container_engine, "_answers",
                        Listing(container_engine._DOCKER_ANSWERS_TTL))
    return directory


def test_oci_picks_an_answering_docker_else_podman_else_a_silent_docker(bin_dir):
    executable(bin_dir / "podman", "echo 'podman version 4.3.1'\n")
    executable(bin_dir / "docker", "case $1 in --version) echo 'Docker version 28.2.2';; "
               "*) echo 'Cannot connect to the Docker daemon' >&2; exit 1;; esac\n")
    assert container_engine.resolve("oci") == container_engine.Engine(
        "podman", str(bin_dir / "podman"))  # a Docker client whose engine is silent
    os.unlink(bin_dir / "podman")
    assert container_engine.resolve("oci").kind == "docker"  # then it is all there is
    executable(bin_dir / "docker", "echo 'Docker version 28.2.2'\n")
    container_engine._answers.forget()
    executable(bin_dir / "podman", "echo 'podman version 4.3.1'\n")
    assert container_engine.resolve("oci").kind == "docker"  # answering: docker, as om3


def test_podman_docker_is_not_taken_for_docker_and_no_engine_is_a_clear_error(bin_dir):
    executable(bin_dir / "docker", "echo 'podman version 4.3.1'\n")  # podman-docker
    executable(bin_dir / "podman", "echo 'podman version 4.3.1'\n")
    assert container_engine.resolve("oci").kind == "podman"
    assert container_engine.speaks_podman(container_engine.resolve("docker"))
    for name in ("docker", "podman"):
        os.unlink(bin_dir / name)
    with pytest.raises(container_engine.EngineMissing,
                       match="neither docker nor podman is installed"):
        container_engine.resolve("oci")
    with pytest.raises(container_engine.EngineMissing, match="podman is not installed"):
        container_engine.resolve("podman")
