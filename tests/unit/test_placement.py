"""Placement decisions: pure logic, one snapshot in, one decision and its sentence out."""

from orchestrator.daemon.placement import Act, ServiceView, Target, decide, placement_leader


def view(**kw):
    base = dict(name="svc", nodes=("n1", "n2", "n3"), orchestrate="ha", placement="nodes order",
                target=Target(), lease_node=None, lease_epoch=None, epoch=0,
                alive=frozenset({"n1", "n2", "n3"}))
    base.update(kw)
    return ServiceView(**base)


def test_first_healthy_node_in_order_takes_it():
    assert decide(view(), "n1", False, True).act is Act.ACQUIRE_AND_START
    d = decide(view(), "n2", False, True)
    assert d.act is Act.NOTHING and "n1 is the placement leader" in d.sentence


def test_dead_leader_is_skipped():
    v = view(alive=frozenset({"n2", "n3"}), epoch=3)
    d = decide(v, "n2", False, True)
    assert d.act is Act.ACQUIRE_AND_START
    assert "first healthy node" in d.sentence


def test_failed_node_is_skipped_and_said():
    v = view(target=Target(failed={"n1": "start command exited with code 1"}))
    assert decide(v, "n1", False, True).act is Act.NOTHING
    d = decide(v, "n2", False, True)
    assert d.act is Act.ACQUIRE_AND_START and "n1 failed to start it" in d.sentence


def test_load_avg_placement_prefers_least_loaded():
    v = view(placement="load avg", loads={"n1": 3.0, "n2": 0.5, "n3": 1.0})
    assert placement_leader(v) == "n2"


def test_holder_starts_resources_when_not_started():
    v = view(lease_node="n1", lease_epoch=4)
    d = decide(v, "n1", False, True)
    assert d.act is Act.START and "epoch 4" in d.sentence
    assert decide(v, "n1", True, True).act is Act.NOTHING


def test_switch_moves_from_holder_to_target():
    v = view(lease_node="n1", lease_epoch=1, target=Target(node="n3"))
    assert decide(v, "n1", True, True).act is Act.STOP_AND_RELEASE
    assert "switching to n3" in decide(v, "n1", True, True).sentence
    released = view(target=Target(node="n3"), epoch=1)
    assert decide(released, "n3", False, True).act is Act.ACQUIRE_AND_START
    assert decide(released, "n1", False, True).act is Act.NOTHING


def test_switch_to_a_dead_node_is_not_followed():
    v = view(lease_node="n1", lease_epoch=1, target=Target(node="n3"),
             alive=frozenset({"n1", "n2"}))
    assert decide(v, "n1", True, True).act is Act.NOTHING


def test_non_holder_stops_what_it_runs():
    v = view(lease_node="n2", lease_epoch=7)
    d = decide(v, "n1", True, True)
    assert d.act is Act.STOP and "n2 holds the lease (epoch 7)" in d.sentence


def test_frozen_blocks_failover_but_not_requests():
    v = view(target=Target(frozen=True), epoch=2, alive=frozenset({"n2", "n3"}))
    d = decide(v, "n2", False, True)
    assert d.act is Act.NOTHING and "frozen" in d.sentence
    v = view(target=Target(frozen=True, node="n2"), epoch=2)
    assert decide(v, "n2", False, True).act is Act.ACQUIRE_AND_START


def test_orchestrate_no_and_start():
    assert decide(view(orchestrate="no"), "n1", False, True).act is Act.NOTHING
    assert decide(view(orchestrate="start"), "n1", False, True).act is Act.ACQUIRE_AND_START
    d = decide(view(orchestrate="start", epoch=1), "n1", False, True)
    assert d.act is Act.NOTHING and "does not fail over" in d.sentence


def test_stopped_by_request():
    v = view(lease_node="n1", lease_epoch=1, target=Target(state="stopped"))
    assert decide(v, "n1", True, True).act is Act.STOP_AND_RELEASE
    assert decide(view(target=Target(state="stopped")), "n1", False, True).act is Act.NOTHING


def test_nothing_starts_while_disconnected():
    d = decide(view(), "n1", False, False)
    assert d.act is Act.NOTHING and "starting nothing" in d.sentence


def test_lost_lease_stops_resources():
    d = decide(view(epoch=2), "n1", True, True)
    assert d.act is Act.STOP and "lost the lease" in d.sentence


def test_holder_removed_from_nodes_stops_and_releases_the_lease():
    v = view(nodes=("n2", "n3"), lease_node="n1", lease_epoch=1, epoch=1)
    d = decide(v, "n1", True, True)
    assert d.act is Act.STOP_AND_RELEASE and "no longer in its nodes" in d.sentence
    # even when its resources are already down: the lease must not stay stuck on it
    assert decide(v, "n1", False, True).act is Act.STOP_AND_RELEASE
    assert decide(view(nodes=("n2", "n3")), "n1", False, True).act is Act.NOTHING


def test_a_lease_of_an_earlier_agent_session_of_this_node_is_not_acted_under():
    # a restarted agent sees "n1 holds the lease": its previous session's, soon expired
    v = view(lease_node="n1", lease_epoch=4, epoch=4, lease_ours=False)
    d = decide(v, "n1", False, True)
    assert d.act is Act.NOTHING and "earlier agent session" in d.sentence
    d = decide(v, "n1", True, True)
    assert d.act is Act.STOP and "earlier agent session" in d.sentence
    assert decide(view(lease_node="n1", lease_epoch=4, epoch=4), "n1", False,
                  True).act is Act.START
