"""The jobs started ahead (support/ahead.py): each runs once per test run, whoever asks, and a
job's failure fails every test that reads it."""

import threading

import pytest

from support import ahead as ahead_module
from support.ahead import JOBS, Runner, job


@pytest.fixture
def registered():
    """Register jobs for one test only."""
    names = []

    def register(name, function, seconds=1.0):
        job(name, seconds)(function)
        names.append(name)

    yield register
    for name in names:
        del JOBS[name]


def test_a_job_runs_once_for_every_process_that_starts_it(tmp_path, registered):
    calls, gate = [], threading.Event()

    def work():
        calls.append(threading.current_thread().name)
        assert gate.wait(5)
        return {"answer": 42}

    registered("test-once", work)
    first, second = Runner(tmp_path), Runner(tmp_path)  # two processes, as xdist's workers
    first.start(["test-once"])
    second.start(["test-once"])
    gate.set()
    assert first.result("test-once") == second.result("test-once") == {"answer": 42}
    first.join(5)
    second.join(5)
    assert calls == ["ahead"]  # one run, in a thread started ahead


def test_a_job_nobody_started_is_run_by_its_reader(tmp_path, registered):
    registered("test-inline", lambda: threading.current_thread().name)
    assert Runner(tmp_path).result("test-inline") == threading.current_thread().name


def test_longest_first(tmp_path, registered, monkeypatch):
    monkeypatch.setattr(ahead_module, "JOB_THREADS", 1)
    order = []
    for name, seconds in [("test-short", 1), ("test-long", 9), ("test-middle", 5)]:
        registered(name, lambda name=name: order.append(name), seconds)
    runner = Runner(tmp_path)
    runner.start(["test-short", "test-long", "test-middle"])
    runner.join(5)
    assert order == ["test-long", "test-middle", "test-short"]


def test_a_failing_job_fails_each_reader_with_its_traceback(tmp_path, registered):
    def broken():
        assert 1 + 1 == 3, "arithmetic"

    registered("test-broken", broken)
    runner = Runner(tmp_path)
    runner.start(["test-broken"])
    for _ in range(2):
        with pytest.raises(AssertionError, match="arithmetic") as raised:
            runner.result("test-broken")
        note = "\n".join(raised.value.__notes__)
        assert "raised by job 'test-broken'" in note and "in broken" in note


def test_an_exception_that_cannot_be_pickled_still_fails_the_reader(tmp_path, registered):
    class Local(Exception):  # defined in a function: pickle cannot find it again
        pass

    def broken():
        raise Local("no way back")

    registered("test-local", broken)
    with pytest.raises(RuntimeError, match="job test-local failed") as raised:
        Runner(tmp_path).result("test-local")
    assert "Local: no way back" in "\n".join(raised.value.__notes__)


def test_an_unknown_job_is_an_error(tmp_path):
    with pytest.raises(AssertionError, match="no job named test-nothing"):
        Runner(tmp_path).result("test-nothing")
