"""The scheduler's worker pool: work starts at once even while other work runs for long,
idle threads are reused, and idle threads go away."""

from __future__ import annotations

import threading
import time

from orchestrator.daemon.workers import WorkerPool


def wait_for(predicate, timeout: float = 5.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def test_work_never_waits_behind_long_running_work():
    pool = WorkerPool("t")
    release = threading.Event()
    started = []
    for i in range(20):  # 20 "long runs" that hold their thread
        pool.submit(lambda i=i: (started.append(i), release.wait(10)))
    assert wait_for(lambda: len(started) == 20), f"only {len(started)} of 20 started"
    assert pool.busy() == 20
    release.set()


def test_idle_threads_are_reused():
    pool = WorkerPool("t")
    names: list[str] = []
    done = threading.Event()
    for _ in range(5):
        done.clear()
        pool.submit(lambda: (names.append(threading.current_thread().name), done.set()))
        assert done.wait(5)
        assert wait_for(lambda: pool.busy() == 0)
    assert len(set(names)) == 1 and pool.size() == 1


def test_idle_threads_exit_after_the_idle_timeout_and_failures_do_not_kill_them():
    pool = WorkerPool("t", idle_timeout=0.2)
    ran = threading.Event()

    def boom() -> None:
        raise RuntimeError("a bad item")

    pool.submit(boom)
    assert wait_for(lambda: pool.busy() == 0)
    pool.submit(ran.set)
    assert ran.wait(5)
    assert pool.size() == 1, "the failure killed its thread"
    assert wait_for(lambda: pool.size() == 0), "idle thread did not exit"
    pool.submit(ran.clear)  # and the pool still works afterwards
    assert wait_for(lambda: not ran.is_set())
