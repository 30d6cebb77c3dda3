"""Marks: expectations that hold on some platforms only, and the tests timed by the wall clock.
Expectations that hold on some platforms only, marked so the same suite runs everywhere.

The suite's own CI runs on Linux, where nothing may skip (conftest.py fails the run if anything
does). .github/workflows/platforms.yml runs the snippet and server tests on Linux, macOS and
Windows too; there these marks leave out what the pages state for Linux alone (error numbers,
loopback timings, /proc) and what needs POSIX signals (SIGINT/SIGTERM to a child process)."""

import os
import sys

import pytest

LINUX = sys.platform == "linux"
POSIX = os.name == "posix"


def linux_only(why):
    """The page shows what Linux does (an error number, a loopback timing, /proc)."""
    return pytest.mark.skipif(not LINUX, reason=f"Linux only: {why}")


def posix_only(why):
    """Needs POSIX: signals sent to a child process, resource limits, fcntl."""
    return pytest.mark.skipif(not POSIX, reason=f"POSIX only: {why}")


TIMING = pytest.mark.xdist_group("timing")  # see pytest_configure
