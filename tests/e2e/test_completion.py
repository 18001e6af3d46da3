"""Shell completion (argcomplete) in a real bash: ``register-python-argcomplete``'s function
asked as the shell asks it, for svcmgr's service names, actions and rids, and nodemgr's
commands."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from e2e_support import BIN, Node

ASK = r"""
eval "$(register-python-argcomplete svcmgr)"
eval "$(register-python-argcomplete nodemgr)"
ask() {  # ask TOOL LINE: what TAB offers at the end of LINE
    COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<< "$2"
    [[ "$2" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
    _python_argcomplete "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sed 's/ *$//' | sort; echo ---
}
"""


def complete(node: Node, *lines: tuple[str, str]) -> list[list[str]]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.fail("bash is not installed", pytrace=False)
    script = ASK + "".join(f"ask {tool} '{line}'\n" for tool, line in lines)
    env = {**node.env, "PATH": f"{BIN}:{node.env.get('PATH', '/usr/bin:/bin')}"}
    out = subprocess.run([bash, "--norc", "-c", script], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    answers = out.stdout.split("---\n")[:-1]
    return [[w for w in a.splitlines() if w] for a in answers]


def test_services_actions_and_rids_complete(node: Node) -> None:
    node.write("testmd", "[DEFAULT]\nnodes = n1\n[app#0]\nstart = /bin/true\n"
                         "[task#0]\ncommand = /bin/true\n[task#backup]\ncommand = /bin/true\n")
    node.write("other", "[DEFAULT]\nnodes = n1\n")
    services, prefixed, actions, rids, tasks, nodemgr = complete(
        node, ("svcmgr", "svcmgr -s "), ("svcmgr", "svcmgr -s te"),
        ("svcmgr", "svcmgr -s testmd lo"), ("svcmgr", "svcmgr -s testmd run --rid "),
        ("svcmgr", "svcmgr -s testmd logs --rid task#"), ("nodemgr", "nodemgr "))
    assert services == ["other", "testmd"]
    assert prefixed == ["testmd"]
    assert actions == ["logs"]
    assert rids == ["app", "app#0", "task", "task#0", "task#backup"]
    assert tasks == ["task#0", "task#backup"]
    assert {"daemon", "print", "schedule", "status"} <= set(nodemgr)
