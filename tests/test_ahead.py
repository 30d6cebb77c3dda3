"""The jobs started ahead (support/ahead.py): each runs once per test run, whoever asks, and a
job's failure fails every test that reads it."""

import os
import sys
import threading
import time

import pytest

from support import ahead as ahead_module
from support.ahead import JOBS, PATHS, REPORT, Runner, job, needs


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
    first.join(5)  # a reader asking before a thread has claimed it would run it itself
    second.join(5)
    assert first.result("test-once") == second.result("test-once") == {"answer": 42}
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


@job("ahead-self-test", seconds=0.1)
def where_it_ran():
    """A job registered at import time, as the suite's are: the job process imports this module."""
    return os.getpid(), sys.path[:3]


def test_the_job_process_runs_the_jobs_beside_the_tests(tmp_path):
    runner = Runner(tmp_path)
    runner.start_process(["ahead-self-test"])
    runner.join(30)  # a reader asking before the job process has claimed it runs it itself
    pid, path = runner.result("ahead-self-test")
    assert runner.process.returncode == 0, (tmp_path / "job process.log").read_text()
    assert pid == runner.process.pid != os.getpid()
    assert path == [str(p) for p in PATHS]
    second = Runner(tmp_path)  # another process of the same run: the job process is started
    second.start_process(["ahead-self-test"])
    assert second.process is None and second.result("ahead-self-test")[0] == pid


def test_a_job_the_job_process_never_ran_fails_its_reader_at_once(tmp_path, registered):
    registered("test-lost", lambda: None)  # the job process does not know it: it exits
    runner = Runner(tmp_path)
    runner._claim("test-lost")  # claimed, as if by the job process, and never finished
    runner.start_process(["ahead-self-test"])
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match="the job process ended without job test-lost"):
        runner.result("test-lost")
    assert time.monotonic() - started < 30


@needs(REPORT)
def test_nothing_went_wrong_unnoticed_in_the_job_process(ahead):
    """pytest fails a test on a ResourceWarning (an unclosed socket) or an exception a thread
    could only print; in the job process serve() collects them: there must be none."""
    assert ahead(REPORT) == []


def test_the_job_process_reports_what_python_could_only_print(tmp_path):
    """The proof that the report above can fail: a job that leaves a socket unclosed."""
    runner = Runner(tmp_path)
    runner.start_process(["ahead-leaky"])
    runner.join(30)
    assert "ResourceWarning: unclosed <socket.socket" in "".join(runner.result(REPORT))


@job("ahead-leaky", seconds=0.1)
def leave_a_socket_open():
    import socket

    socket.socket()  # dropped unclosed: a ResourceWarning when it is collected
