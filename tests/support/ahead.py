"""Runs started ahead: the long waits of the suite overlap each other and the rest of the run.

Most of the suite's time is spent waiting, not computing: a client waits out its 3 s timeout, a
notebook waits for its delayed server, an asyncio client waits out a closing handshake. Run one
after another, those waits made a serial run 215 s long with 80 s of CPU time. So a run whose
result a test checks, and whose time is mostly a wait, is a *job*:

- a function of no arguments, registered at import time in the test module that checks it,
  with ``@job("name")``; it starts what it needs itself (servers, peers, certificates: pytest's
  fixtures belong to one process) and returns what the tests check, picklable;
- a job that builds on another reads it with ``result("name")`` (the site build, say);
- a test names the jobs it reads with ``@needs("name", ...)`` and reads one with the ``ahead``
  fixture: ``ahead("name")`` returns the job's result, or raises the job's exception again.

As the session starts (conftest.py's ``start_jobs``), the first test process starts a *job
process* (one per test run, whatever the number of xdist workers) that imports the modules of
the jobs the selected tests need and runs them in JOB_THREADS threads, longest first, while the
tests run. The jobs run beside the tests, not inside their processes: a test that times
something in its own process does not compete with a job's threads for the GIL, and a test
that looks at its process's descriptors and threads finds only its own. Each job runs once per
test run: whoever claims it first (an atomic ``mkdir`` in the run's shared temporary folder)
runs it and writes the result there with an atomic rename, and a test in any process reads it.
A job nobody has claimed yet when its test asks is run by the test itself.

What a job checks against the clock stays true: a client's "within 5 s" is measured from that
process's own start to its exit, as before; only the waiting in between overlaps.
"""

import importlib
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

JOB_THREADS = 5  # jobs the job process runs at once (each may start several processes)
JOB_TIMEOUT = 300.0  # seconds a test waits for a job, queue included
TESTS = Path(__file__).resolve().parents[1]
# What pytest puts on sys.path (pyproject.toml's `pythonpath`, and the test modules' folder).
PATHS = [TESTS, TESTS / "harness", TESTS.parent / "hooks"]


@dataclass
class Job:
    name: str
    function: object
    seconds: float  # about how long it takes: the longest start first
    module: str  # where it is registered: the job process imports it


JOBS = {}
CURRENT = []  # this process's Runner, for jobs that read other jobs (result) or share files


def result(name):
    """From a job: the result of another job it builds on (the site build, say)."""
    return CURRENT[0].result(name)


def shared_folder(name):
    """From a job: a folder of this test run that every process sees."""
    return CURRENT[0].folder.parent / name


def job(name, seconds=1.0):
    """Register the decorated function as the job `name` (see the module's docstring)."""

    module = sys._getframe(1).f_globals["__name__"]

    def register(function):
        assert name not in JOBS, f"two jobs named {name}"
        JOBS[name] = Job(name, function, seconds, module)
        return function

    return register


def needs(*names):
    """Mark a test as reading these jobs: they start as the session starts if it is selected."""
    return pytest.mark.ahead(*names)


def failed(name, exc):
    """("error", (an exception the readers can unpickle, its traceback's text))."""
    text = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001
        exc = RuntimeError(f"job {name} failed")
    return "error", (exc, text)


REPORT = "job-process-report"


@job(REPORT, seconds=-1)
def report():
    """What the job process saw go wrong outside its jobs' results: the ResourceWarnings and
    exceptions Python could only print (an unclosed socket, a thread that raised), which
    pytest's own checks fail a test on. Written by serve() once every job is done."""
    raise RuntimeError("written by the job process when its jobs are done")


class Runner:
    """The jobs of one test run, seen from one process."""

    def __init__(self, folder, current=False):
        """`current`: the session's runner, the one `result` and `shared_folder` use."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.threads = []
        self.process = None
        if current:
            CURRENT[:] = [self]

    def start_process(self, names):
        """Start the job process for these jobs, unless another process of the run has."""
        if not names or not self._claim("job process"):
            return
        modules = sorted({JOBS[name].module for name in names if name != REPORT})
        code = (
            f"import sys; sys.path[:0] = {[str(path) for path in PATHS]!r}; "
            "from support.ahead import serve; serve()"
        )
        args = [str(self.folder), ",".join(modules), *sorted(set(names) - {REPORT})]
        log = (self.folder / "job process.log").open("w")
        with log:
            # ResourceWarnings (an unclosed socket, transport or file) are errors, as pyproject's
            # filterwarnings makes them in the tests, so the report sees them: Python ignores
            # them by default. (All warnings as errors cost the notebooks' kernel clients 6 s of
            # CPU.) A session of its own: stop() ends it with every server its jobs started.
            self.process = subprocess.Popen(
                [sys.executable, "-W", "error::ResourceWarning", "-c", code, *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=TESTS.parent,
                start_new_session=os.name == "posix",
            )
        pid_file = self.folder / "job process.pid"
        pid_file.with_suffix(".partial").write_text(str(self.process.pid))
        pid_file.with_suffix(".partial").replace(pid_file)

    def _job_process_ended(self):
        """True once the run's job process has exited (False before it has been started)."""
        pid_file = self.folder / "job process.pid"
        if self.process is not None:
            return self.process.poll() is not None
        if not pid_file.exists() or os.name != "posix":  # Windows' os.kill(pid, 0) is Ctrl-C
            return False
        try:
            os.kill(int(pid_file.read_text()), 0)
        except ProcessLookupError:
            return True
        return False

    def start(self, names):
        """Start JOB_THREADS threads that run these jobs, the longest first, unless claimed."""
        queue = sorted(set(names), key=lambda name: -JOBS[name].seconds)
        lock = threading.Lock()

        def work():
            while True:
                with lock:
                    if not queue:
                        return
                    name = queue.pop(0)
                if self._claim(name):
                    self._run(name)

        for _ in range(min(JOB_THREADS, len(queue))):
            thread = threading.Thread(target=work, daemon=True, name="ahead")
            thread.start()
            self.threads.append(thread)

    def _claim(self, name):
        try:
            (self.folder / f"{name}.claimed").mkdir()
        except FileExistsError:
            return False
        return True

    def _run(self, name):
        began, started = time.time(), time.monotonic()
        try:
            outcome = ("result", JOBS[name].function())
        except BaseException as exc:  # noqa: BLE001 - every test that reads the job raises it
            outcome = failed(name, exc)
        took = round(time.monotonic() - started, 2)
        self._store(name, outcome, took, began)

    def _store(self, name, outcome, took, began):
        """Write the outcome for every reader; one that cannot be pickled is the job's error."""
        done = self.folder / f"{name}.pickle"
        partial = done.with_suffix(".partial")
        # When it began and how long it took: for a look at how a run's jobs overlapped.
        try:
            data = pickle.dumps((*outcome, took, os.getpid(), began))
        except Exception as exc:  # noqa: BLE001
            data = pickle.dumps((*failed(name, exc), took, os.getpid(), began))
        partial.write_bytes(data)
        partial.replace(done)

    def result(self, name):
        """The job's result; its exception raised again (with the job's traceback as a note)."""
        assert name in JOBS, f"no job named {name}"
        done = self.folder / f"{name}.pickle"
        if not done.exists() and self._claim(name):
            self._run(name)  # nobody started it: this test runs it
        deadline = time.monotonic() + JOB_TIMEOUT
        while not done.exists():
            if time.monotonic() > deadline:
                pytest.fail(f"job {name} did not finish within {JOB_TIMEOUT} s")
            if self._job_process_ended() and not done.exists():
                log = (self.folder / "job process.log").read_text()[-3000:]
                pytest.fail(f"the job process ended without job {name}:\n{log}")
            time.sleep(0.02)
        kind, value, took, pid, _ = pickle.loads(done.read_bytes())
        if kind == "error":
            exc, text = value
            exc.add_note(f"(raised by job {name!r} in process {pid} after {took} s)\n{text}")
            raise exc
        return value

    def stop(self):
        """Kill the job process this process started, if it still runs (the run was cut short:
        -x, Ctrl-C): nobody will read what it has left."""
        if self.process is not None and self.process.poll() is None:
            if os.name == "posix":
                os.killpg(self.process.pid, signal.SIGKILL)  # the servers its jobs started too
            else:
                self.process.kill()
            self.process.wait()

    def join(self, timeout=JOB_TIMEOUT):
        """Wait for this process's jobs and the job process it started, so no process waits for
        a job that died with it; a job process still running then is killed."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.process is not None:
            try:
                self.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stop()


def serve():
    """The job process: `python -c ... <folder> <module,...> <job> ...` (Runner.start_process).
    Imports the modules that register the jobs, runs them, then writes REPORT and exits."""
    folder, modules, *names = sys.argv[1:]
    runner = Runner(folder, current=True)
    runner._claim(REPORT)
    began, seen = time.time(), []
    sys.unraisablehook = lambda u: seen.append(
        "".join(traceback.format_exception(u.exc_type, u.exc_value, u.exc_traceback))
        + f"(in {u.object!r})"
    )
    threading.excepthook = lambda e: seen.append(
        f"thread {e.thread.name}: "
        + "".join(traceback.format_exception(e.exc_type, e.exc_value, e.exc_traceback))
    )
    if os.name == "posix":  # the jobs hold hundreds of sockets at once: a soft limit of 1024
        import resource  # or macOS's 256 is not enough for all of them together

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    for module in filter(None, modules.split(",")):
        importlib.import_module(module)
    runner.start(names)
    runner.join()
    import gc

    gc.collect()  # what is left unclosed says so now
    runner._store(REPORT, ("result", seen), round(time.time() - began, 2), began)
