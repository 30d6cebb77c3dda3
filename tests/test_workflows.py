"""The GitHub Actions workflows are valid: checked against GitHub's schema, offline."""

import re
import subprocess
import sys

import pytest

from support.paths import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def check_jsonschema(path):
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
        + [str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_github_schema(path):
    result = check_jsonschema(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_workflow_is_caught(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert check_jsonschema(broken).returncode == 1


def test_platform_matrix_runs_the_portable_session():
    text = (ROOT / ".github" / "workflows" / "platforms.yml").read_text()
    for needle in ("ubuntu-latest", "macos-latest", "windows-latest", '"3.11"', '"3.13"'):
        assert needle in text
    assert "nox -s portable" in text


def test_a_weekly_job_tries_the_newest_versions():
    """The scheduled job runs the suite unlocked (noxfile.py install() reads NOX_UNLOCKED)."""
    text = (ROOT / ".github" / "workflows" / "newest.yml").read_text()
    assert re.search(r"^  schedule:\n    - cron: \"[\d*]+ [\d*]+ \* \* [0-6]\"$", text, re.M)
    assert 'NOX_UNLOCKED: "1"' in text and "nox -s tests" in text
    assert 'os.environ.get("NOX_UNLOCKED")' in (ROOT / "noxfile.py").read_text()
