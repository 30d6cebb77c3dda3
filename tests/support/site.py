"""The site built once per test run and shared by every xdist worker."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from support.ahead import job, shared_folder
from support.paths import ROOT
from support.processes import lower_priority

# The address the site is built for (mkdocs.yml reads SITE_URL): the sitemap's and 404 page's.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000/")


SITE_PATH = urlsplit(SITE_URL).path or "/"  # where the site's absolute links start


BUILD_TIMEOUT = 120.0
# `mkdocs`, as `nox -s docs` runs it (tests/test_hooks.py checks it writes what `mkdocs` writes).
LAZY_MKDOCS = str(ROOT / "tools" / "lazy_mkdocs.py")


@job("site", seconds=60)  # first: a third of the tests read the site
def build_site():
    """`mkdocs build --strict` (as `nox -s docs`, through tools/lazy_mkdocs.py), once per test
    run, as the session starts (a job: support/ahead.py), into the run's shared temporary folder
    or TESTED_SITE_DIR: the Pages workflow builds there and publishes that tested build."""
    out = Path(os.environ.get("TESTED_SITE_DIR") or shared_folder("shared-site") / "site").resolve()
    started = time.monotonic()
    result = subprocess.run(
        lower_priority([sys.executable, LAZY_MKDOCS, "build", "--strict", "--site-dir", str(out)]),
        cwd=ROOT,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1", "SITE_URL": SITE_URL},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    return {
        "returncode": result.returncode,
        "stderr": result.stderr,
        "seconds": round(time.monotonic() - started, 2),
        "out": str(out),
    }
