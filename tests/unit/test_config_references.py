"""References, one by one, as OpenSVC resolves them (om3's core/xconfig and core/object
Dereference), and the one deliberate difference: a reference that resolves to nothing is an
error naming it."""

from __future__ import annotations

import os
import uuid

import pytest

from orchestrator.config.context import ServiceContext
from orchestrator.config.errors import ConfigError
from orchestrator.config.references import WELL_KNOWN
from orchestrator.config.service import parse_service
from orchestrator.paths import NodePaths

ID = "f8fd968f-3dfd-4a54-a8c8-f5a52bbeb0c1"


@pytest.fixture
def context(tmp_path):
    return ServiceContext(NodePaths(tmp_path), cluster_name="c1",
                          cluster_nodes=("n1.example.com", "n2", "db3"), dns=("192.0.2.53",),
                          node_env="DEV", collector_url="https://collector.example/api",
                          node_keywords={"name": "n1.example.com", "tz": "UTC"})


def command(value: str, context: ServiceContext, head: str = "", node: str = "n1.example.com",
            section: str = "task#backup") -> str:
    """The command of [task#backup] (or ``section``'s) once its references are resolved."""
    text = (f"[DEFAULT]\nid = {ID}\nnodes = n1.example.com n2\n{head}"
            f"[{section}]\ncommand = {value}\n")
    cfg = parse_service(text, "/x/svc.conf", "web.1", node, context)
    return cfg.resources[section]["command"]


def error(value: str, context: ServiceContext, head: str = "") -> str:
    with pytest.raises(ConfigError) as info:
        command(value, context, head)
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(("ref", "expected"), [
    ("{name}", "web.1"),
    ("{svcname}", "web.1"),
    ("{short_name}", "web"),
    ("{short_svcname}", "web"),
    ("{scaler_name}", "web.1"),
    ("{scaler_short_name}", "web"),
    ("{namespace}", "root"),
    ("{kind}", "svc"),
    ("{path}", "web.1"),
    ("{svcpath}", "web.1"),
    ("{fqdn}", "web.1.root.svc.c1"),
    ("{domain}", "root.svc.c1"),
    ("{id}", ID),
    ("{rid}", "task#backup"),
    ("{rindex}", "backup"),
    ("{rgroup}", "task"),
    ("{nodename}", "n1.example.com"),
    ("{short_nodename}", "n1"),
    ("{clustername}", "c1"),
    ("{clusternodes}", "n1.example.com n2 db3"),
    ("{#clusternodes}", "3"),
    ("{nodes}", "n1.example.com n2"),
    ("{#nodes}", "2"),
    ("{nodes[1]}", "n2"),
    ("{dns}", "192.0.2.53"),
    ("{dns[0]}", "192.0.2.53"),
    ("{dns_janitor_major}", "3"),
    ("{collector_api}", "https://collector.example/api"),
    ("{node.name}", "n1.example.com"),
    ("{node.tz}", "UTC"),
    ("{node.env}", "DEV"),
    ("{env}", "DEV"),  # DEFAULT.env unset: the node's env
    ("{upper:name}", "WEB.1"),
    ("{lower:kind}", "svc"),
    ("{capitalize:kind}", "Svc"),
    ("{title:short_name}", "Web"),
    ("{swapcase:kind}", "SVC"),
    ("{uri_ip:dns}", "192.0.2.53"),
])
def test_well_known_reference(ref, expected, context):
    assert command(f"echo {ref}", context) == f"echo {expected}"


def test_clusterid_is_stable_per_cluster_unless_set(context, tmp_path):
    first = command("{clusterid}", context)
    assert uuid.UUID(first) and command("{clusterid}", context) == first
    other = ServiceContext(NodePaths(tmp_path), cluster_name="c2", cluster_nodes=("n1",))
    assert command("{clusterid}", other, node="n1") != first
    fixed = ServiceContext(NodePaths(tmp_path), cluster_id="1234", cluster_nodes=("n1",))
    assert command("{clusterid}", fixed, node="n1") == "1234"


def test_id_unset_is_a_stable_uuid_of_the_cluster_and_name(tmp_path):
    ctx = ServiceContext.standalone("n1", NodePaths(tmp_path))
    cfg = parse_service("[task#0]\ncommand = echo {id}\n", "/x", "web", "n1", ctx)
    again = parse_service("[task#0]\ncommand = echo {id}\n", "/x", "web", "n1", ctx)
    assert cfg.resources["task#0"]["command"] == again.resources["task#0"]["command"]
    assert cfg.defaults["id"] == cfg.resources["task#0"]["command"].split()[1]
    assert uuid.UUID(cfg.defaults["id"])


def test_var_and_private_var_are_under_the_node_root_and_made_on_use(context, tmp_path):
    var = tmp_path / "var" / "lib" / "orchestrator"
    assert not var.exists()
    assert command("{var}", context) == str(var) and var.is_dir()
    assert command("{private_var}", context) == str(var / "services" / "web.1")
    assert (var / "services" / "web.1").is_dir()
    assert command("{etc}", context) == str(tmp_path / "etc" / "orchestrator")
    assert command("{initd}", context) == str(tmp_path / "etc" / "orchestrator" / "services"
                                              / "web.1.d")
    assert command("{dnsuxsockd}", context) == str(var / "dns")
    assert command("{dnsuxsock}", context) == str(var / "dns" / "pdns.sock")


def test_svcmgr_and_nodemgr_are_our_commands(context):
    for name in ("svcmgr", "nodemgr"):
        path = command(f"{{{name}}}", context)
        assert os.path.basename(path) == name


def test_dnsnodes_without_a_reverse_match_is_this_node(context):
    assert command("{dnsnodes}", context) == "n1.example.com"


def test_every_well_known_name_is_tested_here():
    tested = {"name", "svcname", "short_name", "short_svcname", "scaler_name", "scaler_svcname",
              "scaler_short_name", "scaler_short_svcname", "namespace", "kind", "path",
              "svcpath", "fqdn", "domain", "id", "rid", "rindex", "rgroup", "nodename",
              "short_nodename", "clustername", "clusterid", "clusternodes", "dns", "dnsnodes",
              "dnsuxsock", "dnsuxsockd", "dns_janitor_major", "svcmgr", "nodemgr", "etc",
              "var", "private_var", "initd", "collector_api", "clusterdrpnodes"}
    assert set(WELL_KNOWN) == tested


def test_section_keyword_and_index(context):
    head = "[app#web]\nstart = /srv/web start --port 8080\nstop = /srv/web stop\n"
    assert command("{app#web.start}", context, head) == "/srv/web start --port 8080"
    assert command("{app#web.start[2]}", context, head) == "--port"
    assert command("{#app#web.start}", context, head) == "4"
    # a keyword not written: its table default
    assert command("{app#web.standby}", context, head) == "false"
    assert command("{DEFAULT.id}", context) == ID


def test_a_bare_keyword_is_the_sections_own_then_defaults(context):
    head = "[DEFAULT]\n"  # (a second DEFAULT merges into the first)
    assert command("echo {max_parallel}", context, head) == "echo 1"
    assert command("echo {orchestrate}", context, head) == "echo no"  # DEFAULT's default


def test_scoped_keywords_are_referenced_as_this_node_reads_them(context):
    head = "[app#web]\nstart = a\nstart@n2 = b\nstart@nodes = c\n"
    assert command("{app#web.start}", context, head) == "c"
    assert command("{app#web.start}", context, head, node="n2") == "b"


def test_env_section_its_own_references_and_the_environment(context, monkeypatch):
    monkeypatch.setenv("FROM_OS", "os")
    head = "[env]\nport = 8080\nurl = http://{nodename}:{env.port}/{name}\n"
    assert command("{env.url} {env.FROM_OS}", context, head) == \
        "http://n1.example.com:8080/web.1 os"
    cfg = parse_service(f"[DEFAULT]\nnodes = n1.example.com\n{head}", "/x", "web.1",
                        "n1.example.com", context)
    assert cfg.env["url"] == "http://n1.example.com:8080/web.1"


def test_env_lists_index_and_count_like_opensvc(context):
    head = "[env]\ndevs =\n\t/dev/a\n\t/dev/b\n"
    assert command("{env.devs[1]} {#env.devs}", context, head) == "/dev/b 2"


def test_references_in_nodes(context):
    cfg = parse_service("[DEFAULT]\nnodes = {clusternodes}\n", "/x", "s", "n2", context)
    assert cfg.nodes == ("n1.example.com", "n2", "db3")
    star = parse_service("[DEFAULT]\nnodes = *\n", "/x", "s", "n2", context)
    assert star.nodes == ("n1.example.com", "n2", "db3")
    glob = parse_service("[DEFAULT]\nnodes = n[12]* other\n", "/x", "s", "n2", context)
    assert glob.nodes == ("n1.example.com", "n2", "other")
    drp = parse_service("[DEFAULT]\nnodes = n2\ndrpnodes = db*\n", "/x", "s", "n2", context)
    assert drp.defaults["drpnodes"] == ("db3",)


def test_nodes_star_on_a_standalone_node_is_this_node(tmp_path):
    ctx = ServiceContext.standalone("solo", NodePaths(tmp_path))
    assert parse_service("[DEFAULT]\nnodes = *\n", "/x", "s", "solo", ctx).nodes == ("solo",)
    assert parse_service("[DEFAULT]\nnodes = *\n", "/x", "s", "solo").nodes == ("solo",)


def test_cluster_nodes_unknown_is_an_error_saying_how_to_fix(tmp_path):
    ctx = ServiceContext(NodePaths(tmp_path), cluster_nodes=None)
    for text in ("[DEFAULT]\nnodes = *\n", "[task#0]\ncommand = echo {clusternodes}\n"):
        with pytest.raises(ConfigError, match=r"set \[cluster\] nodes in node.conf"):
            parse_service(text, "/x", "s", "n1", ctx)


def test_node_labels_are_refused(context):
    with pytest.raises(ConfigError, match="node labels are not supported"):
        parse_service("[DEFAULT]\nnodes = az=fr1\n", "/x", "s", "n1", context)


@pytest.mark.parametrize("text", [
    "awk '{print $1}' /etc/hosts",
    "awk '{print}' /etc/hosts",
    "echo ${HOME} ${PATH:-/bin}",
    "docker inspect --format '{{.State.Pid}}' x",
    "find /tmp -name x -exec rm {} +",
    "echo {a,b} {1..3}",
    'curl -d \'{"k": 1}\' http://x',
])
def test_braces_that_are_not_references_are_left_alone(text, context):
    assert command(text, context) == text


@pytest.mark.parametrize(("ref", "why"), [
    ("{nmae}", "not a reference OpenSVC knows, nor a keyword of [task#backup] or [DEFAULT]"),
    ("{env.nope}", "no such variable in [env] or the environment"),
    ("{app#9.start}", "no section [app#9] in this service"),
    ("{task#backup.nope}", "[task#backup] has no keyword 'nope'"),
    ("{timeout}", "task#backup.timeout is not set and has no default"),
    ("{nodes[7]}", "index 7 is out of range (2 words in 'n1.example.com n2')"),
    ("{node.nope}", "node.conf's [node] has no 'nope'"),
    ("{safe://x}", "the collector's safe is not supported here"),
    ("{clusterdrpnodes}", "OpenSVC v3 dropped it"),
    ("{task#backup.command}", "reference loop: task#backup.command -> task#backup.command"),
])
def test_a_reference_that_resolves_to_nothing_is_an_error_naming_it(ref, why, context):
    line = error(f"echo {ref}", context)
    assert line.startswith(f"/x/svc.conf:5: [task#backup] command = echo {ref}: "
                           f"unresolved reference {ref}: {why}"), line


def test_a_reference_loop_through_env_names_the_loop(context):
    with pytest.raises(ConfigError, match=r"reference loop: env.a -> env.b -> env.a"):
        command("{env.a}", context, "[env]\na = {env.b}\nb = {env.a}\n")


def test_collector_api_without_a_collector_is_an_error(tmp_path):
    ctx = ServiceContext.standalone("n1", NodePaths(tmp_path))
    with pytest.raises(ConfigError, match=r"no \[collector\] url in node.conf"):
        parse_service("[task#0]\ncommand = {collector_api}\n", "/x", "s", "n1", ctx)


def test_run_time_keywords_of_a_driver_stay_for_the_driver(context):
    head = "[disk#1]\ntype = loop\nfile = /srv/d.img\nsize = 10m\n"
    assert command("mkfs {disk#1.exposed_devs[0]}", context, head) == \
        "mkfs {disk#1.exposed_devs[0]}"
    assert command("{disk#1.file} {disk#1.size}", context, head) == "/srv/d.img 10m"
