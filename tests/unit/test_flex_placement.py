"""Flex placement (daemon.flex): instance slots, their counts and the aggregate avail."""

from __future__ import annotations

from orchestrator.coordination.layout import lease_owner, slot_lease_name
from orchestrator.daemon.flex import FlexCounts, FlexView, decide_flex, flex_avail
from orchestrator.daemon.placement import Act, ServiceView, Target
from orchestrator.resources.status import Status

NODES = ("n1", "n2", "n3")


def view(holders=None, mine=None, alive=NODES, target=None, counts=None, orchestrate="ha",
         stale=(), epoch=1):
    base = ServiceView(name="web", nodes=NODES, orchestrate=orchestrate,
                       placement="nodes order", target=target or Target(), lease_node=None,
                       lease_epoch=None, epoch=epoch, alive=frozenset(alive))
    return FlexView(base, counts or FlexCounts(1, 3, 2), holders or {}, mine, tuple(stale))


def test_counts_are_clamped_as_om3_clamps_them():
    assert FlexCounts.of({"flex_min": 1, "flex_max": None, "flex_target": None}, NODES) \
        == FlexCounts(1, 3, 1)
    assert FlexCounts.of({"flex_min": 5, "flex_max": 0, "flex_target": 9}, NODES) \
        == FlexCounts(3, 3, 3)
    assert FlexCounts.of({"flex_min": 2, "flex_max": 2, "flex_target": 1}, NODES) \
        == FlexCounts(2, 2, 2)


def test_avail_is_down_with_no_instance_up_warn_outside_min_max_else_up():
    counts = FlexCounts(2, 2, 2)
    assert flex_avail([Status.DOWN, Status.DOWN], counts) is Status.DOWN
    assert flex_avail([Status.UP, Status.DOWN, Status.DOWN], counts) is Status.WARN
    assert flex_avail([Status.UP, Status.UP, Status.DOWN], counts) is Status.UP
    assert flex_avail([Status.UP, Status.UP, Status.UP], counts) is Status.WARN


def test_slot_names_round_trip():
    assert lease_owner(slot_lease_name("web", 3)) == ("web", 3)
    assert lease_owner("web") == ("web", None)


def test_free_slots_go_to_the_best_candidates_holding_none():
    first = decide_flex(view(), "n1", False, True)
    second = decide_flex(view(), "n2", False, True)
    third = decide_flex(view(), "n3", False, True)
    assert (first.act, first.slot) == (Act.ACQUIRE_AND_START, 0)
    assert (second.act, second.slot) == (Act.ACQUIRE_AND_START, 1)
    assert third.act is Act.NOTHING and "take the free instance slot" in third.sentence


def test_a_dead_nodes_slot_is_replaced_by_the_next_node():
    # n1 died: its slot 0 lease went with its session; n2 holds slot 1
    v = view(holders={1: "n2"}, alive=("n2", "n3"))
    d = decide_flex(v, "n3", False, True)
    assert (d.act, d.slot) == (Act.ACQUIRE_AND_START, 0)
    assert decide_flex(view(holders={1: "n2"}, mine=1, alive=("n2", "n3")), "n2", True,
                       True).act is Act.NOTHING


def test_holder_starts_then_gives_up_when_failed_stopped_or_beyond_target():
    assert decide_flex(view(holders={0: "n1"}, mine=0), "n1", False, True).act is Act.START
    failed = Target(failed={"n1": "monitored resource app#0 down"})
    d = decide_flex(view(holders={0: "n1"}, mine=0, target=failed), "n1", True, True)
    assert d.act is Act.STOP_AND_RELEASE and "app#0" in d.sentence
    stopped = Target(state="stopped")
    assert decide_flex(view(holders={0: "n1"}, mine=0, target=stopped), "n1", True,
                       True).act is Act.STOP_AND_RELEASE
    d = decide_flex(view(holders={2: "n1"}, mine=2), "n1", True, True)
    assert d.act is Act.STOP_AND_RELEASE and "beyond flex_target 2" in d.sentence


def test_a_failed_node_is_skipped_for_free_slots():
    failed = Target(failed={"n1": "start failed"})
    assert decide_flex(view(target=failed), "n1", False, True).act is Act.NOTHING
    d = decide_flex(view(target=failed), "n3", False, True)
    assert (d.act, d.slot) == (Act.ACQUIRE_AND_START, 1)


def test_full_slots_frozen_orchestrate_no_and_disconnected_place_nothing():
    full = {0: "n1", 1: "n2"}
    assert "2 of flex_target 2" in decide_flex(view(holders=full), "n3", False, True).sentence
    assert decide_flex(view(target=Target(frozen=True)), "n1", False, True).act is Act.NOTHING
    assert decide_flex(view(orchestrate="no"), "n1", False, True).act is Act.NOTHING
    assert decide_flex(view(), "n1", False, False).act is Act.NOTHING
    assert decide_flex(view(orchestrate="start", epoch=0), "n1", False, True).act \
        is Act.ACQUIRE_AND_START
    assert decide_flex(view(orchestrate="start", epoch=3), "n1", False, True).act is Act.NOTHING


def test_a_start_request_for_this_node_takes_a_free_slot_even_with_orchestrate_no():
    d = decide_flex(view(orchestrate="no", target=Target(node="n3")), "n3", False, True)
    assert (d.act, d.slot) == (Act.ACQUIRE_AND_START, 0)


def test_started_without_a_slot_stops_and_an_earlier_sessions_slot_is_waited_out():
    assert decide_flex(view(), "n1", True, True).act is Act.STOP
    assert decide_flex(view(holders={0: "n1"}, stale=(0,)), "n1", True, True).act is Act.STOP
    d = decide_flex(view(holders={0: "n1"}, stale=(0,)), "n1", False, True)
    assert d.act is Act.NOTHING and "earlier agent session" in d.sentence


def test_a_decision_pass_takes_services_by_priority_then_name():
    from types import SimpleNamespace

    from orchestrator.config.service import parse_service
    from orchestrator.daemon.decisions import priority_key
    from orchestrator.daemon.runtime import Runtime

    def runtime(name: str, text: str) -> Runtime:
        cfg = parse_service(text, f"/x/{name}.conf", name, "n1")
        return Runtime(name, service=SimpleNamespace(config=cfg))  # type: ignore[arg-type]

    runtimes = {"a": runtime("a", "[DEFAULT]\npriority = 90\n"),
                "b": runtime("b", "[DEFAULT]\npriority = 10\n"),
                "c": runtime("c", "[DEFAULT]\n")}
    order = sorted(["a", "b", "c", "unread"], key=priority_key(runtimes))
    assert order == ["b", "c", "unread", "a"]  # 10, 50 (default), 50 (not read yet), 90
