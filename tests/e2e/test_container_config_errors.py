"""Bad container configs (resources and container tasks): one line per problem naming the
file, section, keyword and value; exit 2 at validate (and before anything runs)."""

from __future__ import annotations

import pytest

BOX = "image = localhost/testbox:latest\n"
CASES = {
    "missing_image": ("[container#0]\ntype = podman\ncommand = /bin/sleep 1\n",
                      "svc.conf:1: [container#0] image: required keyword is missing"),
    "unknown_type": ("[container#0]\ntype = lxc\n" + BOX,
                     "svc.conf:1: [container#0]: driver container type lxc is not supported "
                     "(supported container types: docker, podman, oci)"),
    "netns_unknown_rid": ("[container#0]\ntype = podman\n" + BOX + "netns = container#9\n",
                          "svc.conf:4: [container#0] netns = container#9: no resource "
                          "container#9 in this service"),
    "netns_alias_not_a_container": (
        "[app#0]\nstart = /bin/true\n[container#0]\n" + BOX + "net = app#0\n",
        "svc.conf:5: [container#0] net = app#0: app#0 is not a container: only a container "
        "has namespaces to share"),
    "pidns_itself": ("[container#0]\n" + BOX + "pidns = container#0\n",
                     "svc.conf:3: [container#0] pidns = container#0: a container cannot share "
                     "its own namespace"),
    "volume_object": ("[container#0]\n" + BOX + "volume_mounts = data:/data\n",
                      "svc.conf:3: [container#0] volume_mounts = data:/data: expected <host "
                      "dir>:<container path>[:<options>] with an absolute host dir, got "
                      "'data:/data'"),
    "bad_pull_policy": ("[container#0]\n" + BOX + "image_pull_policy = never\n",
                        "svc.conf:3: [container#0] image_pull_policy = never: invalid once | "
                        "always"),
    "task_unknown_type": ("[task#0]\ntype = kvm\ncommand = /bin/true\n",
                          "svc.conf:2: [task#0] type = kvm: invalid host | docker | podman | "
                          "oci"),
    "task_without_image": ("[task#0]\ntype = podman\ncommand = /bin/true\n",
                           "[task#0] image: required keyword is missing (a task of type "
                           "podman runs in a container)"),
    "task_image_on_the_host": ("[task#0]\ncommand = /bin/true\n" + BOX,
                               "svc.conf:3: [task#0] image = localhost/testbox:latest: applies "
                               "to container tasks only (type = docker | podman | oci); this "
                               "task's type is host"),
    "task_netns_unknown_rid": ("[task#0]\ntype = oci\n" + BOX + "netns = container#db\n"
                               "command = /bin/true\n",
                               "svc.conf:4: [task#0] netns = container#db: no resource "
                               "container#db in this service"),
    "task_command_unsplittable": ("[task#0]\ntype = podman\n" + BOX + "command = echo 'oops\n",
                                  "svc.conf:4: [task#0] command = echo 'oops: cannot split "
                                  "shell-style"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_container_config(node, case):
    text, expected = CASES[case]
    path = node.services / "svc.conf"
    path.write_text(text)
    for action in (["validate", "config"], ["start"], ["run"]):
        res = node.svcmgr("-s", "svc", *action)
        assert res.rc == 2, (action, res.out, res.err)
        assert "Traceback" not in res.err
        lines = res.err.splitlines()
        assert all(line.startswith(f"error: {path}") for line in lines), res.err
        assert any(expected in line for line in lines), (expected, res.err)
