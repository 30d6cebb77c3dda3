"""Entry points: `nox -s serve`, `nox -s docs`, `nox -s tests`, `nox -s lint`."""

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
ENV = {"NO_MKDOCS_2_WARNING": "1"}  # quiet Material 9.8's end-of-life notice
# `mkdocs`, with mkdocs-jupyter's converter imported only when a notebook is converted (1.3 s).
LAZY_MKDOCS = "tools/lazy_mkdocs.py"
# The tests that need no site build and no browser: snippets, clients, servers, claims.
PORTABLE = [
    "tests/test_snippets.py",
    "tests/test_client_faults.py",
    "tests/test_server.py",
    "tests/test_echo_servers.py",
    "tests/test_faults.py",
    "tests/test_fuzz.py",
    "tests/test_corrections.py",
    "tests/test_claims.py",
    "tests/test_modes.py",
    "tests/test_platforms.py",
    "tests/test_framing.py",
    "tests/test_minimal_servers.py",
]


def install(session, group):
    """Install a dependency group at the versions pinned in requirements/<group>.txt.

    Once installed, the lock file is kept in the virtualenv (installed-<group>.txt) and the next
    run installs only if the lock has changed: pip takes 3 s to find everything already there,
    more than the whole build. `--no-reuse-existing-virtualenvs` starts from scratch.

    NOX_UNLOCKED=1 (the scheduled job .github/workflows/newest.yml) installs the newest versions
    pyproject.toml allows instead, so a release that breaks the suite shows up before the lock
    takes it.
    """
    lock = Path(f"requirements/{group}.txt")
    stamp = Path(session.virtualenv.location) / f"installed-{group}.txt"
    if os.environ.get("NOX_UNLOCKED"):
        stamp.unlink(missing_ok=True)
        session.install("--upgrade", *nox.project.dependency_groups(PYPROJECT, group))
    elif stamp.exists() and stamp.read_bytes() == lock.read_bytes():
        session.log(f"{lock} is installed already")
    else:
        session.install("-r", str(lock))
        stamp.write_bytes(lock.read_bytes())


@nox.session
def lock(session):
    """Re-pin requirements/*.txt from pyproject.toml (`-- --upgrade`: the newest versions)."""
    session.install("uv>=0.9")
    common = ["--universal", "--python-version", "3.11", "--generate-hashes", "--quiet"]
    common += ["--custom-compile-command", "nox -s lock", *session.posargs]
    # One resolution for the whole suite; the smaller groups take the same versions.
    same = ["-c", "requirements/test.txt"]
    for group, extra in [("test", []), ("docs", same), ("portable", same), ("lint", [])]:
        args = ["--group", f"pyproject.toml:{group}", *extra, "-o", f"requirements/{group}.txt"]
        session.run("uv", "pip", "compile", *common, *args)


@nox.session
def serve(session):
    """Live site with reload on http://127.0.0.1:8000 (Korean at /, English at /en/)."""
    install(session, "docs")
    address = ["--dev-addr", "127.0.0.1:8000"]
    session.run("python", LAZY_MKDOCS, "serve", *address, *session.posargs, env=ENV)


@nox.session
def docs(session):
    """Strict build of both languages into site/."""
    install(session, "docs")
    args = ["build", "--strict", "--site-dir", "site", *session.posargs]
    session.run("python", LAZY_MKDOCS, *args, env=ENV)


@nox.session
def tests(session):
    """The whole suite: snippets against a real server, the strict build, the browser test."""
    install(session, "test")
    # With -n N, the tests timed by the wall clock run on one worker (support.marks.TIMING).
    session.run("pytest", "--dist", "loadgroup", *session.posargs, env=ENV)


@nox.session
def portable(session):
    """The snippet and server tests only: the suite that runs on Linux, macOS and Windows."""
    install(session, "portable")
    session.run("pytest", "-p", "no:cacheprovider", *PORTABLE, *session.posargs, env=ENV)


@nox.session
def bench(session):
    """Connections held, messages per second and latency of each echo server (loopback)."""
    install(session, "test")
    session.run("python", "tools/bench.py", env=ENV | {"PYTHONPATH": "tests"})


@nox.session
def audit(session):
    """Every page beside stock Material (Lighthouse, axe-core), against the budgets.

    `-- --runs 5` measures five rounds instead of three; `-- --only /en/ /non-blocking/`
    measures only those pages of ours (beside every stock page).
    """
    install(session, "test")
    node_modules = f"{session.virtualenv.location}/npm"
    session.run(
        "npm",
        "install",
        "--prefix",
        node_modules,
        "--no-audit",
        "--no-fund",
        "--silent",
        "lighthouse@12.2.3",
        "axe-core@4.10.2",
        external=True,
    )
    node_modules += "/node_modules"
    session.run("python", "tools/audit.py", node_modules, *session.posargs, env=ENV)


@nox.session
def lint(session):
    """ruff on the tests, the helpers and the snippets."""
    install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "tests", "tools", "hooks", "noxfile.py")
