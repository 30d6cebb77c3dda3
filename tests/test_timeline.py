"""The timeline diagram on the comparison page, drawn from a real traced run of the post's two
clients against the companion server with a one-second delay: one SVG per language, both drawn
from the same run (docs/assets/timeline.ko.svg, timeline.en.svg).

The traced run waits for the server's delay: it is a job (support/ahead.py), with a server of its
own; the test draws from its traces.
"""

import io
import json
import re
import tempfile
import warnings
from pathlib import Path

import matplotlib
import pytest

from support.ahead import job, needs
from support.catalog import names
from support.paths import DOCS
from support.processes import own_server, run_snippet

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DELAY = 1.0
CLIENTS = names(post=True)  # the post's two examples
LABELS = {  # the only words the diagram writes; the rest are the snippets' identifiers and errnos
    "ko": {"ms": "{:.2f}밀리초", "axis": "첫 호출부터 흐른 시간, 밀리초 (server.py --delay {:g})"},
    "en": {"ms": "{:.2f} ms", "axis": "ms since the first call (server.py --delay {:g})"},
}


def svg_path(lang):
    return DOCS / "assets" / f"timeline.{lang}.svg"


def draw(traces, lang):
    """One panel per client, one row per socket call, as an SVG whose text stays text."""
    labels = LABELS[lang]
    plt.rcParams.update(
        {
            "svg.fonttype": "none",  # the browser draws the text, in the reader's font
            "svg.hashsalt": "timeline",
            "font.size": 10,
            # for measuring the labels: a Hangul font when the machine has one
            "font.family": ["DejaVu Sans", "Noto Sans CJK KR", "NanumGothic", "sans-serif"],
        }
    )
    end = max(call[2] for calls in traces.values() for call in calls) * 1000
    fig, axes = plt.subplots(2, 1, figsize=(8, 4.2), sharex=True, layout="constrained")
    for ax, (name, calls) in zip(axes, traces.items(), strict=True):
        for row, (_, begin, finish, outcome) in enumerate(calls):
            begin, took = begin * 1000, (finish - begin) * 1000
            failed = "Error" in outcome
            color = "#c0392b" if failed else "#1f5fa8"
            ax.broken_barh([(begin, max(took, end / 300))], (row - 0.35, 0.7), color=color)
            text = labels["ms"].format(took) + (f" → {outcome}" if outcome else "")
            ax.text(begin + max(took, end / 300) + end / 100, row, text, va="center")
        ax.set_yticks(range(len(calls)), [f"{call[0]}()" for call in calls])
        ax.invert_yaxis()
        ax.set_title(f"{name}.py", loc="left", fontsize=10, fontweight="bold")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1].set_xlim(0, end * 1.45)
    axes[-1].set_xlabel(labels["axis"].format(DELAY))
    out = io.StringIO()
    with warnings.catch_warnings():  # no Hangul font here: the text still stays text in the SVG
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue()


@job("timeline-traced-run", seconds=1.5)
def traced_run():
    """{client: (its run, the text of its trace, or None if it wrote none)}, one client after
    the other against a server with --delay DELAY."""
    runs = {}
    with tempfile.TemporaryDirectory() as folder, own_server("--delay", str(DELAY)) as server:
        for name in CLIENTS:
            path = Path(folder) / f"{name}.json"
            result = run_snippet(name, server.port, trace=path)
            runs[name] = result, path.read_text() if path.exists() else None
    return runs


@needs("timeline-traced-run")
def test_timeline_of_the_two_clients(request, ahead):
    traces = {}
    for name, (result, trace) in ahead("timeline-traced-run").items():
        assert (result.returncode, result.stderr) == (0, "")
        traces[name] = json.loads(trace)

    blocking = {call[0]: call for call in traces["blocking_client"]}
    _, begin, end, outcome = blocking["recv"]
    assert end - begin >= DELAY * 0.9 and outcome == repr(b"hello from server.py\n")
    nonblocking = {call[0]: call for call in traces["nonblocking_client"]}
    for call, expected in (("connect", "EINPROGRESS"), ("recv", "EAGAIN")):
        _, begin, end, outcome = nonblocking[call]
        # Well under a millisecond on an idle machine. On a loaded one a process may lose its
        # CPU in the middle of a call (62 ms, seen beside the suite and two CPU hogs), still a
        # small fraction of the second the blocking recv() waits.
        assert outcome == f"BlockingIOError {expected}" and end - begin < DELAY / 5, call

    for lang in LABELS:  # both languages from this one run
        svg = draw(traces, lang)
        if request.config.getoption("update_examples"):
            svg_path(lang).write_text(svg, encoding="utf-8")
        committed = svg_path(lang).read_text(encoding="utf-8")
        for label in (*(f"{name}.py" for name in CLIENTS), "EINPROGRESS", "EAGAIN", "recv()"):
            assert label in svg and label in committed, (lang, label)
        assert LABELS[lang]["axis"].format(DELAY) in committed, lang
        assert not re.search(r'href="https?:|url\(https?:|@import', committed)  # loads nothing
    assert "밀리초" in svg_path("ko").read_text(encoding="utf-8")
    assert " ms" not in svg_path("ko").read_text(encoding="utf-8")


def durations(svg):
    """The call durations a diagram shows, in order, whatever the unit's spelling."""
    return re.findall(r"(\d+\.\d\d) ?(?:ms|밀리초)", svg)


def test_both_languages_show_the_same_run():
    ko, en = (svg_path(lang).read_text(encoding="utf-8") for lang in LABELS)
    assert durations(ko) == durations(en) and len(durations(ko)) >= 4


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_comparison_page_shows_it(lang):
    page = (DOCS / lang / "comparison.md").read_text(encoding="utf-8")
    assert f"](../assets/timeline.{lang}.svg)" in page
