"""One case against each server, side by side, as one job (support/ahead.py).

A job's exception fails every test that reads it. Here each server's run keeps its own outcome,
so a run that fails against one server fails only that server's test, as before the job.
"""

import os
import pickle
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

# Runs at once in one process, whichever job they belong to. Each starts a server and then mostly
# waits (a flood to stall, a server's second before it accepts again), but each start takes CPU,
# and the jobs run beside the tests that time a server with 1,000 clients. One run per CPU keeps
# the load they add small (with four at once on a loaded 2-CPU machine, a normal client once
# waited past its one-second bound).
AT_ONCE = threading.BoundedSemaphore(max(2, os.cpu_count() or 1))


@dataclass
class Raised:
    """A run's exception (a RuntimeError if it cannot be pickled) and its traceback as text."""

    error: BaseException
    text: str


def side_by_side(run, keys):
    """{key: run(key)} for every key, at most AT_ONCE at a time; a run that raised gives Raised."""

    def one(key):
        with AT_ONCE:
            try:
                return run(key)
            except BaseException as exc:  # noqa: BLE001 - the test of this key raises it again
                text = "".join(traceback.format_exception(exc))
                try:
                    pickle.loads(pickle.dumps(exc))
                except Exception:  # noqa: BLE001
                    exc = RuntimeError(f"the run for {key!r}: {type(exc).__name__}: {exc}")
                return Raised(exc, text)

    with ThreadPoolExecutor(len(keys)) as pool:
        return dict(zip(keys, pool.map(one, keys), strict=True))


def outcome(results, key):
    """results[key]; or the exception its run raised, raised again with the run's traceback."""
    value = results[key]
    if isinstance(value, Raised):
        value.error.add_note(f"(raised by the run for {key!r})\n{value.text}")
        raise value.error
    return value
