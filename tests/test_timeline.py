"""The timeline diagram on the comparison page, drawn from a real traced run of the post's two
clients against the companion server with a one-second delay."""

import io
import json
import re

import matplotlib
import pytest
from catalog import names
from conftest import DOCS, run_snippet

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DELAY = 1.0
SVG = DOCS / "assets" / "timeline.svg"
CLIENTS = names(post=True)  # the post's two examples


def draw(traces):
    """One panel per client, one row per socket call, as an SVG whose text stays text."""
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "timeline", "font.size": 10})
    end = max(call[2] for calls in traces.values() for call in calls) * 1000
    fig, axes = plt.subplots(2, 1, figsize=(8, 4.2), sharex=True, layout="constrained")
    for ax, (name, calls) in zip(axes, traces.items(), strict=True):
        for row, (_, begin, finish, outcome) in enumerate(calls):
            begin, took = begin * 1000, (finish - begin) * 1000
            failed = "Error" in outcome
            color = "#c0392b" if failed else "#1f5fa8"
            ax.broken_barh([(begin, max(took, end / 300))], (row - 0.35, 0.7), color=color)
            text = f"{took:.2f} ms" + (f" → {outcome}" if outcome else "")
            ax.text(begin + max(took, end / 300) + end / 100, row, text, va="center")
        ax.set_yticks(range(len(calls)), [f"{call[0]}()" for call in calls])
        ax.invert_yaxis()
        ax.set_title(f"{name}.py", loc="left", fontsize=10, fontweight="bold")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1].set_xlim(0, end * 1.45)
    axes[-1].set_xlabel(f"ms since the first call (server.py --delay {DELAY:g})")
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue()


def test_timeline_of_the_two_clients(servers, tmp_path, request):
    traces = {}
    for name in CLIENTS:
        path = tmp_path / f"{name}.json"
        result = run_snippet(name, servers(DELAY).port, trace=path)
        assert (result.returncode, result.stderr) == (0, "")
        traces[name] = json.loads(path.read_text())

    blocking = {call[0]: call for call in traces["blocking_client"]}
    _, begin, end, outcome = blocking["recv"]
    assert end - begin >= DELAY * 0.9 and outcome == repr(b"hello from server.py\n")
    nonblocking = {call[0]: call for call in traces["nonblocking_client"]}
    for call, expected in (("connect", "EINPROGRESS"), ("recv", "EAGAIN")):
        _, begin, end, outcome = nonblocking[call]
        assert outcome == f"BlockingIOError {expected}" and end - begin < 0.005, call

    svg = draw(traces)
    if request.config.getoption("update_examples"):
        SVG.write_text(svg, encoding="utf-8")
    committed = SVG.read_text(encoding="utf-8")
    for label in (*(f"{name}.py" for name in CLIENTS), "EINPROGRESS", "EAGAIN", "recv()"):
        assert label in svg and label in committed, label
    assert not re.search(r'href="https?:|url\(https?:|@import', committed)  # loads nothing


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_comparison_page_shows_it(lang):
    page = (DOCS / lang / "comparison.md").read_text(encoding="utf-8")
    assert "](../assets/timeline.svg)" in page
