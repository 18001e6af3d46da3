"""OpenSVC files read as OpenSVC reads them: DEFAULT keywords (taking effect, or accepted
with no effect and a warning), resource keywords inherited from DEFAULT, repeated keywords
and sections, subsets, [sync#i0], unsupported drivers, blank values, one line per error."""

from __future__ import annotations

import pytest

from orchestrator.config.context import ServiceContext
from orchestrator.config.errors import ConfigError
from orchestrator.config.ini import parse_ini
from orchestrator.config.keywords import all_keywords, keywords_of
from orchestrator.config.node import load_node_config
from orchestrator.config.service import parse_service
from orchestrator.config.tables import default_compat
from orchestrator.paths import NodePaths


def parse(text: str, node: str = "n1", context: ServiceContext | None = None):
    return parse_service(text, "/x/svc.conf", "svc", node, context)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return [str(p) for p in info.value.problems]


def warnings(text: str) -> list[str]:
    return [str(w) for w in parse(text).warnings]


# ---------------------------------------------------------------------- DEFAULT keywords

# every DEFAULT keyword om3's core/object keyword store defines for svc objects, and v2's
# svcdict (less the v2 triggers, which are resource keywords written in DEFAULT; and less
# topology's v2 alias cluster_type, which the topology row does not have yet)
OM3_DEFAULT = ("hard_affinity affinity hard_anti_affinity anti_affinity soft_affinity "
               "soft_anti_affinity id comment disable create_pg pg_cpus pg_mems pg_cpu_shares "
               "pg_cpu_quota pg_mem_oom_control pg_mem_limit pg_vmem_limit pg_mem_swappiness "
               "pg_blkio_weight stat_timeout nodes drpnodes encapnodes monitor_action "
               "pre_monitor_action app env service_type stonith placement topology "
               "flex_primary shared flex_min flex_min_nodes flex_max "
               "flex_max_nodes flex_target parents children orchestrate priority rollback "
               "monitor_schedule resinfo_schedule status_schedule comp_schedule "
               "sync_schedule run_schedule timeout status_timeout start_timeout stop_timeout "
               "provision unprovision provision_timeout unprovision_timeout sync_timeout")
V2_DEFAULT = ("lock_timeout mode aws aws_profile push_schedule drp_flex_primary docker_exe "
              "dockerd_exe container_data_dir docker_data_dir docker_daemon_private "
              "docker_daemon_args registry_creds access pool size prkey no_preempt_abort "
              "show_disabled scale scaler_slave constraints flex_cpu_low_threshold "
              "flex_cpu_high_threshold slaves drpnode scsireserv bwlimit sync_interval "
              "sync_max_delay presnap_trigger postsnap_trigger")


def _accepted_in_default(name: str) -> bool:
    table = keywords_of("DEFAULT")
    return name in table or any(name in k.aliases for k in table.values())


@pytest.mark.parametrize("name", (OM3_DEFAULT + " " + V2_DEFAULT).split())
def test_every_opensvc_default_keyword_is_accepted(name):
    assert _accepted_in_default(name), name


def test_a_default_keyword_with_no_effect_says_so_in_docs_and_in_a_warning():
    for kw in default_compat.ROWS:
        assert kw.no_effect, kw.name
    found = warnings("[DEFAULT]\napp = ERP\nparents = db\nstonith = true\n")
    assert found == [
        "/x/svc.conf:2: [DEFAULT] app = ERP: accepted with no effect: the collector here "
        "groups services by cluster and node, not by app code",
        "/x/svc.conf:3: [DEFAULT] parents = db: accepted with no effect: no relations between "
        "services here: the daemon places each service on its own",
        "/x/svc.conf:4: [DEFAULT] stonith = true: accepted with no effect: no fencing callout "
        "here: the fence keeper of the node that lost the lease stops the service there "
        "(docs/cluster.md)",
    ]
    # written as its default (what it does here anyway): nothing to say
    assert warnings("[DEFAULT]\nrollback = false\ncreate_pg = false\n") == []
    assert len(warnings("[DEFAULT]\nrollback = true\n")) == 1


def test_implemented_default_keywords():
    cfg = parse("[DEFAULT]\nid = abc\nenv = PRD\npriority = 10\ncomment = the web site\n")
    assert (cfg.defaults["id"], cfg.defaults["env"], cfg.defaults["priority"]) == \
        ("abc", "PRD", 10)
    assert cfg.defaults["comment"] == "the web site" and cfg.warnings == ()
    assert parse("[DEFAULT]\nservice_type = DEV\n").defaults["env"] == "DEV"
    assert parse("").defaults["priority"] == 50


def test_env_defaults_to_the_nodes(tmp_path):
    root = tmp_path / "root"
    (root / "etc" / "orchestrator").mkdir(parents=True)
    (root / "etc" / "orchestrator" / "node.conf").write_text(
        "[node]\nname = n1\nenv = PRD\n[cluster]\nname = c1\nnodes = n1 n2\ndns = 192.0.2.1\n")
    node = load_node_config(NodePaths(root))
    ctx = node.service_context()
    assert (ctx.node_env, ctx.cluster_name, ctx.cluster_nodes, ctx.dns) == \
        ("PRD", "c1", ("n1", "n2"), ("192.0.2.1",))
    cfg = parse("[DEFAULT]\nnodes = *\n[task#0]\ncommand = echo {node.env} {env}\n", "n1", ctx)
    assert cfg.defaults["env"] == "PRD" and cfg.nodes == ("n1", "n2")
    assert cfg.resources["task#0"]["command"] == "echo PRD PRD"


def test_a_clustered_node_without_cluster_nodes_does_not_know_them(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_ZK", raising=False)
    root = tmp_path / "root"
    (root / "etc" / "orchestrator").mkdir(parents=True)
    (root / "etc" / "orchestrator" / "node.conf").write_text(
        "[node]\nname = n1\n[cluster]\nzk = 127.0.0.1:2181\n")
    assert load_node_config(NodePaths(root)).service_context().cluster_nodes is None
    (root / "etc" / "orchestrator" / "node.conf").write_text("[node]\nname = n1\n")
    assert load_node_config(NodePaths(root)).service_context().cluster_nodes == ("n1",)


def test_orchestrate_started_reads_as_start_with_a_warning():
    cfg = parse("[DEFAULT]\norchestrate = started\n")
    assert cfg.defaults["orchestrate"] == "start"
    assert [w.reason for w in cfg.warnings] == [
        "read as orchestrate = start (om3 takes no, start or ha and refuses started)"]
    assert any("expected one of: no, start, ha" in p for p in problems(
        "[DEFAULT]\norchestrate = always\n"))


def test_default_disable_disables_every_resource_whatever_they_say():
    cfg = parse("[DEFAULT]\ndisable = true\n[task#0]\ncommand = a\ndisable = false\n"
                "[task#1]\ncommand = b\n")
    assert all(rc["disable"] for rc in cfg.resources.values())


def test_kind_other_than_svc_is_refused():
    assert parse("[DEFAULT]\nkind = svc\n").defaults["kind"] == "svc"
    [line] = problems("[DEFAULT]\nkind = vol\n")
    assert "only svc objects are supported here (OpenSVC vol objects are not)" in line


def test_resource_keywords_written_in_default_are_inherited():
    cfg = parse("[DEFAULT]\ntimeout = 5m\nrestart = 2\n[task#0]\ncommand = a\n"
                "[task#1]\ncommand = b\ntimeout = 10s\n")
    assert cfg.resources["task#0"]["timeout"] == 300.0
    assert cfg.resources["task#1"]["timeout"] == 10.0  # its own wins
    assert cfg.resources["task#0"]["restart"] == 2
    # a bad inherited value is one error, at DEFAULT's line
    assert problems("[DEFAULT]\ntimeout = soon\n[task#0]\ncommand = a\n[task#1]\ncommand = "
                    "b\n") == ["/x/svc.conf:2: [DEFAULT] timeout = soon: invalid duration: "
                               "expected a duration like 30, 30s, 5m, 1h30m, 2d or 500ms"]


def test_a_resource_keyword_in_default_no_driver_acts_on_is_told():
    found = warnings("[DEFAULT]\npre_startstandby = /bin/true\n")
    assert len(found) == 1 and "accepted with no effect" in found[0]


# ---------------------------------------------------------------------- generic keywords

def test_keywords_every_resource_accepts():
    cfg = parse("[task#0]\ncommand = a\ncomment = nightly dump\nshared = true\n"
                "encap = false\nprovision = false\n")
    rc = cfg.resources["task#0"]
    assert rc["comment"] == "nightly dump" and rc["shared"] is True
    assert sorted(w.keyword for w in cfg.warnings) == ["provision", "shared"]


def test_task_keywords_of_v2_and_om3():
    cfg = parse("[task#0]\ncommand = a\nrun_timeout = 90s\ntimeout = 10s\nlog = false\n"
                "retcodes = 0:up 2:up 1:down\ncheck = last_run_warn\n")
    rc = cfg.resources["task#0"]
    assert rc["timeout"] == 90.0  # run_timeout takes precedence (om3)
    assert rc["retcodes"].status(2) == "up" and rc["check"] == "last_run_warn"
    assert [w.keyword for w in cfg.warnings] == ["log"]


# ---------------------------------------------------------------------- repeated keywords

def test_a_repeated_keyword_last_wins_with_a_warning():
    cfg = parse("[task#0]\ncommand = /bin/true\ncommand = /bin/false\n")
    assert cfg.resources["task#0"]["command"] == "/bin/false"
    assert [str(w) for w in cfg.warnings] == [
        "/x/svc.conf:3: [task#0] command: repeated keyword 'command' (first at line 2): the "
        "last value wins, as in OpenSVC"]


def test_a_repeated_section_is_merged_with_a_warning():
    cfg = parse("[task#0]\ncommand = a\n[app#0]\nstart = x\n[task#0]\nschedule = @10\n")
    assert cfg.resources["task#0"]["command"] == "a"
    assert cfg.resources["task#0"]["schedule"] == "@10"
    assert "repeated section [task#0] (first at line 1)" in str(cfg.warnings[0])


def test_the_ini_reader_reports_repeats_as_warnings():
    sections, found = parse_ini("[s]\nk = 1\nk = 2\n[s]\nj = 3\n")
    assert sections["s"].options == {"k": "2", "j": "3"} and sections["s"].lines["k"] == 3
    assert [(p.line, p.key, p.warning) for p in found] == [(3, "k", True), (4, None, True)]


# ---------------------------------------------------------------------- error lines

def test_a_value_on_several_lines_gives_one_error_line():
    text = "[task#0]\ncommand = a\ntimeout = 1m\n\tmore\n\tand more\n"
    [line] = problems(text)
    assert line == ("/x/svc.conf:3: [task#0] timeout = 1m ... (+2 more lines): invalid "
                    "duration: expected a duration like 30, 30s, 5m, 1h30m, 2d or 500ms")


# ---------------------------------------------------------------------- subsets

def test_subset_sections():
    cfg = parse("[subset#app:web]\nparallel = true\n[subset#app]\nparallel = false\n"
                "[subset#container.docker:db]\nparallel = true\ncomment = v2 wrote the type\n"
                "[app#0]\nstart = a\nsubset = web\n")
    assert cfg.subsets["subset#app:web"]["parallel"] is True
    assert cfg.subsets["subset#app"]["parallel"] is False
    assert cfg.subsets["subset#container:db"]["comment"] == "v2 wrote the type"
    assert any("bad subset section: 'nope' is not a resource group" in p
               for p in problems("[subset#nope:x]\nparallel = true\n"))
    assert any("unknown keyword 'paralel'" in p for p in problems("[subset#app:x]\nparalel = 1\n"))


# ---------------------------------------------------------------------- drivers

def test_config_sync_is_accepted_and_runs_nothing():
    cfg = parse("[sync#i0]\ndisable = true\n")
    assert cfg.resources == {} and cfg.warnings == ()
    cfg = parse("[sync#i0]\nschedule = @10\n")
    assert cfg.resources == {} and "cluster store distributes the config" in str(cfg.warnings[0])


def test_an_unsupported_driver_is_one_line_at_its_section_and_the_only_error():
    text = ("[volume#0]\nname = {name}-data\nsize = 1g\n[task#0]\ncomand = oops\n"
            "command = ls {volume#0.name} {volume#0.mnt}\n[disk#1]\ntype = {env.t}\n[env]\nt = md\n"
            "[ip#0]\ntype = cni\n")
    assert problems(text) == [
        "/x/svc.conf:1: [volume#0]: driver volume is not supported (supported drivers: "
        + ", ".join(sorted(_registry_groups())) + ")",
        "/x/svc.conf:7: [disk#1]: driver disk type md is not supported (supported disk types: "
        "loop)",
        "/x/svc.conf:11: [ip#0]: driver ip type cni is not supported (supported ip types: host)",
    ]


def test_a_type_opensvc_does_not_have_is_a_bad_value_not_a_driver():
    [line] = problems("[app#0]\nstart = a\ntype = oneshot\n")
    assert "type = oneshot" in line and "not supported" not in line


def test_v1_section_names_say_what_they_are_now():
    [line] = problems("[vg#1]\nvgname = data\n")
    assert "driver vg (OpenSVC v1's name of disk type vg) is not supported" in line


def test_a_blank_value_is_the_keywords_default():
    cfg = parse("[app#0]\nstart = a\nstop =\nstop@n1 =\n")
    assert cfg.resources["app#0"]["stop"] is None
    # a required keyword left blank, as templates do: valid, with a warning
    cfg = parse("[sync#0]\nsrc =\n")
    assert cfg.resources["sync#0"]["src"] is None
    assert [str(w) for w in cfg.warnings] == [
        "/x/svc.conf:2: [sync#0] src =: is empty: the resource cannot start until it is set"]


def test_every_keyword_with_no_effect_is_documented_so():
    from orchestrator.config.reference import render_markdown

    text = render_markdown()
    for kw in all_keywords():
        if kw.noop:
            assert f"Accepted with no effect: {kw.noop}" in text, kw.name


def _registry_groups() -> list[str]:
    from orchestrator.resources.registry import DRIVERS

    return list(DRIVERS)


# ---------------------------------------------------------------------- value syntaxes

@pytest.mark.parametrize(("text", "seconds"), [
    ("30", 30.0), ("5ms", 0.005), ("1h2s", 3602.0), ("1.5h", 5400.0), ("2d", 172800.0),
    ("1w", 604800.0), ("1y", 31536000.0), ("250us", 0.00025)])
def test_durations_as_om3_writes_them(text, seconds):
    from orchestrator.config.types import to_duration

    assert to_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("True", True), ("T", True), ("t", True), ("yes", True), ("1", True),
    ("false", False), ("FALSE", False), ("F", False), ("no", False), ("0", False),
    ("none", False)])
def test_booleans_as_om3_and_v2_spell_them(text, value):
    from orchestrator.config.types import to_bool

    assert to_bool(text) is value
