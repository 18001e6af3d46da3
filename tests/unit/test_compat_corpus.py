"""Our own service files in OpenSVC's layout (tests/unit/compat; its README says which
pattern of OpenSVC's files each one covers), held always (CI too) to the rule of
orchestrator/devtools/corpus_check.py: a file whose drivers we all have validates
unchanged; every other is refused with one error per section of a driver we lack, naming
it, at that section's line, and nothing else. Each file is read standalone and on a node
of a three-node cluster (``[cluster] nodes``: ``nodes = *``, ``{clusternodes}``).

Beside the check's own reading of the registry, ``MAY_LACK`` pins by hand which sections
of which files are of drivers we may lack, so a check that finds too few or too many
fails here too. OpenSVC's verbatim files go through the same check where they are
fetched: test_config_corpus.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrator.config.context import ServiceContext
from orchestrator.config.ini import IniSection, parse_ini
from orchestrator.config.service import parse_service
from orchestrator.devtools import corpus_check
from orchestrator.devtools.corpus_check import check_file, check_text, config_files
from orchestrator.paths import NodePaths
from orchestrator.resources.registry import DRIVERS

COMPAT = Path(__file__).parent / "compat"
FILES = config_files(COMPAT)
READINGS = {"standalone": (), "cluster": ("n1", "n2", "n3")}

# the sections, as written, whose driver (group, type) the registry may lack; every other
# section of every file is of a driver we have
MAY_LACK: dict[str, dict[str, tuple[str, str | None]]] = {
    "container-podman.conf": {"container#pod": ("container", "podman"),
                              "container#app": ("container", "podman"),
                              "container#init": ("container", "podman")},
    "unsupported-volume.conf": {"volume#data": ("volume", None)},
    "unsupported-ip-cni.conf": {"ip#0": ("ip", "cni"), "container#0": ("container", "podman")},
    "unsupported-disk-lvm-drbd.conf": {"disk#1": ("disk", "lvm"), "disk#2": ("disk", "drbd"),
                                       "vg#legacy": ("vg", None)},
    "unsupported-share-nfs.conf": {"share#0": ("share", "nfs")},
    "unsupported-sync-zfs.conf": {"sync#snap": ("sync", "zfs")},
}


def _lacked(group: str, kind: str | None) -> bool:
    spec = DRIVERS.get(group)
    return spec is None or bool(kind and spec.types and kind not in spec.types)


def _expected_refusals(name: str) -> tuple[str, ...]:
    return tuple(sorted(s for s, (g, k) in MAY_LACK.get(name, {}).items() if _lacked(g, k)))


@pytest.mark.parametrize("reading", sorted(READINGS))
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_file_validates_or_names_only_its_missing_drivers(path, reading):
    verdict = check_file(path, COMPAT, READINGS[reading])
    assert verdict.outcome != "mismatch", "\n".join((verdict.detail, *verdict.notes))
    expected = _expected_refusals(path.name)
    assert verdict.outcome == ("refused" if expected else "ok"), verdict
    assert tuple(sorted(verdict.refused)) == expected, verdict


# what the files read as (node n1 of the cluster n1 n2 n3, service svc1): file, section,
# keyword -> value; a reference or a rule resolved wrongly still validates, so say it here
READS = {
    ("references-names.conf", "task#names", "command"):
        "/bin/echo svc1 svc1 svc1 svc1 root svc svc1 svc1 svc1.root.svc.corpus "
        "root.svc.corpus 60718293-a4b5-46c7-d8e9-f0a1b2c3d4e5",
    ("references-names.conf", "task#sections", "command"): "/bin/echo task#sections sections task",
    ("references-names.conf", "task#nodes", "command"): "/bin/echo n1 n1 n1 n2 n3 3 n1 n1 n2 n3 3",
    ("references-names.conf", "task#cluster", "command"):
        "/bin/echo corpus " + ServiceContext(NodePaths(Path("/")), cluster_name="corpus").clusterid
        + " SVC1 Cluster",
    ("references-keywords.conf", "app#0", "stop"): "/bin/echo noatime words",
    ("references-keywords.conf", "fs#1", "dev"): "{disk#1.exposed_devs[0]}",
    ("references-keywords.conf", "task#report", "command"): "/bin/echo /tmp 2m 1 two words",
    ("env-section.conf", "app#0", "start"): "/bin/sh -c 'echo serving /srv/svc1/data on 8080 "
                                            "for beta'",
    ("env-section.conf", "app#0", "environment"): {"PORT": "8080", "DATA": "/srv/svc1/data",
                                                   "FIRST": "alpha"},
    ("env-section.conf", "fs#data", "type"): "bind",
    ("flex.conf", "DEFAULT", "nodes"): ("n1", "n2", "n3"),
    ("flex.conf", "DEFAULT", "flex_max"): 3,
    ("flex.conf", "DEFAULT", "env"): "TST",
    ("failover-web.conf", "DEFAULT", "nodes"): ("n1", "n2", "n3"),
    ("failover-web.conf", "DEFAULT", "priority"): 10,
    ("failover-web.conf", "app#web", "environment"): {"SVC": "svc1", "FQDN": "svc1.root.svc.corpus",
                                                      "RID": "app#web"},
    ("repeats-multiline.conf", "DEFAULT", "orchestrate"): "start",
    ("repeats-multiline.conf", "app#0", "start"): "/bin/sh -c 'echo second'",
    ("repeats-multiline.conf", "app#0", "stop"): "/bin/true",
    ("repeats-multiline.conf", "app#0", "environment"): {"A": "1", "B": "2", "C": "svc1"},
    ("inherited-defaults.conf", "DEFAULT", "orchestrate"): "start",
    ("inherited-defaults.conf", "app#0", "timeout"): 300.0,
    ("inherited-defaults.conf", "app#1", "timeout"): 10.0,
    ("inherited-defaults.conf", "task#0", "environment"): {"FROM_DEFAULT": "1"},
    ("ip-host.conf", "ip#scoped", "name"): "198.51.100.142",
    ("ip-host.conf", "ip#v2", "dev"): "eth1",
    ("ip-host.conf", "app#0", "start"): "/bin/sh -c 'echo listening on 198.51.100.140/25'",
    ("scoping-sync.conf", "DEFAULT", "drpnodes"): ("n3",),
    ("scoping-sync.conf", "app#0", "start"): "/bin/true",
    ("limits-durations.conf", "app#limited", "limit_as"): 64 * 10**6,
    ("limits-durations.conf", "app#limited", "stop_timeout"): 0.25,
    ("limits-durations.conf", "task#limited", "timeout"): 3723.0,
    ("subsets.conf", "subset#app:1backend", "parallel"): True,
    ("subsets.conf", "subset#app:2front", "parallel"): False,
}


@pytest.mark.parametrize("where", sorted(READS), ids=["/".join(w) for w in sorted(READS)])
def test_the_files_read_as_written(where, tmp_path):
    name, section, keyword = where
    context = ServiceContext(NodePaths(tmp_path), cluster_name="corpus",
                             cluster_nodes=READINGS["cluster"])
    cfg = parse_service((COMPAT / name).read_text(), name, "svc1", "n1", context)
    values = (cfg.defaults if section == "DEFAULT" else cfg.subsets[section]
              if section.startswith("subset#") else cfg.resources[section])
    assert values[keyword] == READS[where]


def test_each_unsupported_file_still_needs_a_driver_we_lack():
    """A file written to be refused that the registry now runs whole tests nothing of the
    refusal: give it a driver we still lack."""
    for name in MAY_LACK:
        if name.startswith("unsupported-"):
            assert _expected_refusals(name), f"{name}: the registry runs all its drivers now"


def test_the_readme_describes_every_file():
    listed = set(re.findall(r"^\| `([^`]+\.conf)` \|", (COMPAT / "README.md").read_text(), re.M))
    assert listed == {p.name for p in FILES}
    assert set(MAY_LACK) <= listed


# a reader or a registry view gone wrong -> (file, what the mismatch says)
BROKEN = {
    "a typo in a file we run": (None, "failover-web.conf", "unknown keyword 'chek'"),
    "a reader that runs any type": (
        ("orchestrator.config.service.unsupported_type_reason", lambda group, kind: None),
        "unsupported-sync-zfs.conf", "does not name driver sync zfs"),
    "a refusal that does not name the driver": (
        ("orchestrator.config.service.unknown_group_reason", "volume"),
        "unsupported-volume.conf", "error does not name driver volume: no such thing"),
    "a reader that runs a driver the registry lacks": (
        ("orchestrator.devtools.corpus_check.DRIVERS", "fs"),
        "failover-web.conf", "accepted, but the registry lacks fs#flag (fs)"),
    "a refusal at another line than its section's": (
        ("orchestrator.devtools.corpus_check.parse_ini", 1),
        "unsupported-share-nfs.conf", "[share#0] error at line 12, its section is at 13"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_check_fails_when_the_rule_is_broken(case, monkeypatch):
    """The check is no rubber stamp: each way a file or the config reader can break the
    rule is a mismatch."""
    from orchestrator.config import service

    patch, name, says = BROKEN[case]
    text = (COMPAT / name).read_text()
    assert check_text(text, name).outcome != "mismatch"
    if patch is None:
        text = text.replace("check = /bin/true", "chek = /bin/true")
    elif patch[0].endswith("unknown_group_reason"):
        real = service.unknown_group_reason
        monkeypatch.setattr(patch[0], lambda g: "no such thing" if g == patch[1] else real(g))
    elif patch[0].endswith("DRIVERS"):
        monkeypatch.setattr(patch[0], {g: s for g, s in DRIVERS.items() if g != patch[1]})
    elif patch[0].endswith("parse_ini"):  # the reader's lines, seen shifted
        def shifted(text: str):
            sections, problems = parse_ini(text)
            return {n: IniSection(sec.name, sec.line + patch[1], sec.options, sec.lines)
                    for n, sec in sections.items()}, \
                problems
        monkeypatch.setattr(patch[0], shifted)
    else:
        monkeypatch.setattr(*patch)
    verdict = check_text(text, name)
    assert verdict.outcome == "mismatch" and says in verdict.detail, verdict


def test_the_command_exits_1_on_a_mismatch_or_no_file(tmp_path):
    good = (COMPAT / "failover-web.conf").read_text()
    (tmp_path / "typo.conf").write_text(good.replace("check =", "chek ="))
    (tmp_path / "fine.conf").write_text(good)
    assert corpus_check.main([str(tmp_path)]) == 1
    (tmp_path / "typo.conf").unlink()
    assert corpus_check.main([str(tmp_path)]) == 0
    assert corpus_check.main([str(tmp_path / "nothing")]) == 1  # no file checked: no pass


def test_the_command_prints_a_line_per_file_and_a_count(capsys):
    assert corpus_check.main([str(COMPAT), "--cluster", "n1,n2,n3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(FILES) + 1
    refused = [line for line in out if line.startswith("refused as expected")]
    assert any("unsupported-sync-zfs.conf: sync#snap (sync zfs)" in line for line in refused)
    assert re.fullmatch(rf"{len(FILES)} files: \d+ ok, {len(refused)} refused as expected, "
                        r"0 mismatches", out[-1])
