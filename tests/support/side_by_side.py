"""One case against each server, side by side, as one job (support/ahead.py).

A job's exception fails every test that reads it. Here each server's run keeps its own outcome,
so a run that fails against one server fails only that server's test, as before the job.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from support.ahead import failed

# Runs at once in one process, whichever job they belong to. Each starts a server and then mostly
# waits (a flood to stall, a server's second before it accepts again), but each start takes CPU,
# and the jobs run beside the tests that time a server with 1,000 clients. One run per CPU keeps
# the load they add small (with four at once on a loaded 2-CPU machine, a normal client once
# waited past its one-second bound).
AT_ONCE = threading.BoundedSemaphore(max(2, os.cpu_count() or 1))


@dataclass
class Raised:
    """A run's exception (a RuntimeError if it cannot cross processes) and its traceback."""

    error: BaseException
    text: str


def caught(run, *args):
    """run(*args), or Raised if it raised: a value a job can hand to the one test it concerns."""
    try:
        return run(*args)
    except BaseException as exc:  # noqa: BLE001 - the test of this run raises it again
        _, (error, text) = failed(f"the run {args!r}", exc)
        return Raised(error, text)


def unwrap(value, key=None):
    """What caught() returned; or the exception its run raised, raised again with its traceback."""
    if isinstance(value, Raised):
        value.error.add_note(f"(raised by the run for {key!r})\n{value.text}")
        raise value.error
    return value


def side_by_side(run, keys, at_once=AT_ONCE):
    """{key: caught(run, key)} for every key, each in a thread of its own, at most `at_once`
    (a semaphore; None: no limit) at a time."""

    def one(key):
        with at_once if at_once is not None else contextlib.nullcontext():
            return caught(run, key)

    with ThreadPoolExecutor(len(keys)) as pool:
        return dict(zip(keys, pool.map(one, keys), strict=True))


def outcome(results, key):
    """results[key]; or the exception its run raised, raised again with the run's traceback."""
    return unwrap(results[key], key)
