"""The site built once per test run and shared by every xdist worker."""

import json
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from support.paths import ROOT

# The address the site is built for (mkdocs.yml reads SITE_URL): the sitemap's and 404 page's.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000/")


SITE_PATH = urlsplit(SITE_URL).path or "/"  # where the site's absolute links start


BUILD_TIMEOUT = 120.0
# `mkdocs`, as `nox -s docs` runs it (tests/test_hooks.py checks it writes what `mkdocs` writes).
LAZY_MKDOCS = str(ROOT / "tools" / "lazy_mkdocs.py")


def build_site_once(folder, out):
    """`mkdocs build --strict` into `out` (as `nox -s docs`), once for every process of the run.

    Each xdist worker has its own session fixtures, so "once" is arranged in the file system:
    the first process to create `folder`/building builds, then writes the outcome to
    `folder`/build.json with an atomic rename; the others poll for that file. A failed build
    fails every site test with the same message, and nobody waits for a crashed builder longer
    than BUILD_TIMEOUT.
    """
    outcome = folder / "build.json"
    try:
        (folder / "building").mkdir(parents=True)
    except FileExistsError:
        deadline = time.monotonic() + BUILD_TIMEOUT
        while not outcome.exists():
            if time.monotonic() > deadline:
                pytest.fail(f"no site build finished in {folder} within {BUILD_TIMEOUT} s")
            time.sleep(0.05)
    else:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, LAZY_MKDOCS, "build", "--strict", "--site-dir", str(out)],
            cwd=ROOT,
            env=os.environ | {"NO_MKDOCS_2_WARNING": "1", "SITE_URL": SITE_URL},
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
        written = {
            "returncode": result.returncode,
            "stderr": result.stderr,
            "seconds": round(time.monotonic() - started, 2),
            "builder": os.environ.get("PYTEST_XDIST_WORKER", "controller"),
        }
        partial = outcome.with_suffix(".partial")
        partial.write_text(json.dumps(written))
        partial.replace(outcome)
    return json.loads(outcome.read_text())
