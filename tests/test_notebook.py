"""The experiment notebook: executed here (never by the build) against a real companion server,
its claims checked as ratios, its outputs stored in the .ipynb (`--update-examples` rewrites
them) and rendered from there by mkdocs-jupyter (`execute: false`) in both languages, with
its plot, and offered for download."""

import asyncio
import functools
import io
import json
import re
import tokenize

import nbformat
import pytest
from nbclient import NotebookClient

from support.ahead import job, needs
from support.paths import DOCS, LANGS, SNIPPETS

NS = [1, 2, 4, 8, 16]
DELAY = 0.1  # the notebook's --delay
CONCURRENT = ("threads", "selectors", "asyncio")
# What the table's header and the plot's legend call the four ways, in each language.
LABELS = {
    "ko": {
        "sequential": "차례로",
        "threads": "스레드",
        "selectors": "selectors",
        "asyncio": "asyncio",
    },
    "en": {n: n for n in ("sequential", "threads", "selectors", "asyncio")},
}
AXES = {"ko": ("N (클라이언트 수)", "총 시간 (초)"), "en": ("N (clients)", "total time (s)")}
HANGUL = re.compile("[\uac00-\ud7a3]")
SAMPLE_NOTEBOOK = DOCS.parent / "tests" / "samples" / "notebook.ipynb"


def path(lang):
    return DOCS / lang / "experiment.ipynb"


def notebook(lang):
    return json.loads(path(lang).read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def joined(value):
    """A notebook's multi-line string: stored as a list of lines, or as one string."""
    return value if isinstance(value, str) else "".join(value)


def source(cell):
    return joined(cell["source"])


def tokens(cell):
    """A code cell's Python tokens (the `%config` magic is not Python: left out)."""
    lines = [line for line in source(cell).splitlines(keepends=True) if not line.startswith("%")]
    return list(tokenize.generate_tokens(io.StringIO("".join(lines)).readline))


def check_outputs(nb, lang):
    """The outputs of one run, stored or fresh: run top to bottom, no error, no warning, a table
    that supports the page's claims, and a plot labelled in the page's language."""
    cells = code_cells(nb)
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1))
    outputs = [o for c in cells for o in c["outputs"]]
    assert [o["output_type"] for o in outputs] == ["execute_result", "display_data"], outputs
    assert not any(o["output_type"] in ("error", "stream") for o in outputs)  # nor stderr

    table = joined(outputs[0]["data"]["text/markdown"])
    header, rule, *rows = table.splitlines()
    labels = LABELS[lang]
    assert header == "| N | " + " | ".join(labels.values()) + " |"
    assert rule == "|--:" * 5 + "|"
    times = {name: [] for name in labels}
    for n, row in zip(NS, rows, strict=True):
        match = re.fullmatch(rf"\| {n} \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", row)
        assert match, row
        for name, seconds in zip(labels, match.groups(), strict=True):
            times[name].append(float(seconds))
    # One after another: at least N delays (the server waits before every greeting), and
    # roughly linear: 16 clients within 5x of 16 delays.
    for n, seconds in zip(NS, times["sequential"], strict=True):
        assert seconds >= round(n * DELAY, 2), (n, seconds)
    assert times["sequential"][-1] < 5 * 16 * DELAY, times
    # All at once: one delay at least, and even 16 clients take far less than 16 in a row
    # (a sixteenth expected; a third is 5x that, so a loaded machine passes).
    for name in CONCURRENT:
        assert min(times[name]) >= round(DELAY, 2), (name, times[name])
        assert max(times[name]) < times["sequential"][-1] / 3, (name, times)

    svg = joined(outputs[1]["data"]["image/svg+xml"])
    assert svg.startswith("<?xml") and svg.rstrip().endswith("</svg>")
    texts = [t.strip() for t in re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)]
    assert set(AXES[lang]) <= set(texts), texts  # svg.fonttype "none": labels are text
    assert set(labels.values()) <= set(texts), texts  # the legend
    words = {t for t in texts if not re.fullmatch(r"[\d.−-]+", t)}  # tick labels are numbers
    assert words == {*AXES[lang], *labels.values()}, words  # nothing else, in no other language


def execute(lang):
    """Run the notebook as a reader would (it starts snippets/server.py itself, on a free port):
    the executed notebook. Both languages' runs are jobs (support/ahead.py): each mostly waits
    for the server's delays, so they run beside each other and the rest of the suite."""
    nb = nbformat.read(path(lang), as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        record_timing=False,  # no per-cell timestamps in the stored file
        resources={"metadata": {"path": str(DOCS / lang)}},  # the reader's working directory
    )
    # Raises CellExecutionError if a cell (the notebook's own asserts) fails. asyncio.run: the
    # job's thread gets its own event loop, closed when the run ends.
    asyncio.run(client.async_execute())
    return nb


for _lang in LANGS:
    job(f"notebook-{_lang}", seconds=7)(functools.partial(execute, _lang))


@pytest.mark.parametrize(
    "lang", [pytest.param(lang, marks=needs(f"notebook-{lang}")) for lang in LANGS]
)
def test_executes_and_its_claims_hold(lang, request, ahead):
    """The notebook runs top to bottom; `--update-examples` stores this run's outputs in the
    .ipynb, which the site renders."""
    nb = ahead(f"notebook-{lang}")
    if request.config.getoption("update_examples"):
        nb.metadata = notebook(lang)["metadata"]  # not the kernel's version: no churn
        path(lang).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    check_outputs(json.loads(nbformat.writes(nb)), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_stored_outputs_are_a_whole_run(lang):
    """The page shows the stored run: the same checks as a fresh run."""
    check_outputs(notebook(lang), lang)


def test_the_output_checks_can_fail():
    """Concurrent as slow as sequential, or an English label on the Korean plot, is caught."""
    nb = notebook("ko")
    table = code_cells(nb)[2]["outputs"][0]["data"]
    lines = joined(table["text/markdown"]).splitlines()
    table["text/markdown"] = "\n".join(
        [*lines[:-1], "| 16 | 1.60 | 1.60 | 0.10 | 0.10 |"]  # threads took 16 delays
    )
    with pytest.raises(AssertionError, match="threads"):
        check_outputs(nb, "ko")
    nb = notebook("ko")
    plot = code_cells(nb)[4]["outputs"][0]["data"]
    plot["image/svg+xml"] = joined(plot["image/svg+xml"]).replace(">차례로<", ">sequential<")
    with pytest.raises(AssertionError):
        check_outputs(nb, "ko")


def test_same_code_in_both_languages():
    """Only comments and strings (labels) differ: the token streams match otherwise."""
    skip = (tokenize.COMMENT, tokenize.NL)  # a comment may take more lines in one language

    def shape(lang):
        return [
            [
                (t.type, "" if t.type == tokenize.STRING else t.string)
                for t in tokens(cell)
                if t.type not in skip
            ]
            for cell in code_cells(notebook(lang))
        ]

    assert shape("ko") == shape("en")
    assert shape("ko")


@pytest.mark.parametrize("lang", LANGS)
def test_comments_in_the_page_language(lang):
    comments = [
        t.string
        for cell in code_cells(notebook(lang))
        for t in tokens(cell)
        if t.type == tokenize.COMMENT and t.string != "# noqa: E402"
    ]
    assert len(comments) >= 5
    for comment in comments:
        assert bool(HANGUL.search(comment)) == (lang == "ko"), comment


def test_imports_the_clients_instead_of_copying_them():
    text = "".join(source(c) for c in notebook("en")["cells"])
    assert "import many_clients" in text
    for function in (
        "def sequential",
        "def with_threads",
        "def with_selectors",
        "def with_asyncio",
    ):
        assert function in (SNIPPETS / "many_clients.py").read_text()
        assert function not in text


def project_config():
    from mkdocs.config import load_config

    return load_config(str(DOCS.parent / "mkdocs.yml"))


def test_the_build_cannot_execute():
    """mkdocs-jupyter renders the stored outputs (`execute: false`); the docs group has no kernel
    to run a notebook with."""
    import tomllib

    groups = tomllib.loads((DOCS.parent / "pyproject.toml").read_text())["dependency-groups"]
    docs = " ".join(d for d in groups["docs"] if isinstance(d, str))
    assert "mkdocs-jupyter" in docs
    for package in ("ipykernel", "nbclient", "matplotlib"):
        assert package not in docs
    options = project_config().plugins["mkdocs-jupyter"].config
    assert (options["execute"], options["include_source"]) == (False, True)


def build_one_notebook(tmp_path, monkeypatch, nb):
    """Build a site of one notebook with this site's mkdocs-jupyter options and notebook hook,
    the hook's cache in tmp_path (so mkdocs-jupyter converts it); the built page's HTML."""
    import tempfile

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the hook's cache folder
    docs = tmp_path / "docs"
    docs.mkdir(parents=True)
    (docs / "server.md").write_text("# Server\n\n## Options\n", encoding="utf-8")
    (docs / "nb.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    options = dict(project_config().plugins["mkdocs-jupyter"].config)
    config = {
        "site_name": "one notebook",
        "docs_dir": str(docs),
        "site_dir": str(tmp_path / "site"),
        "theme": {"name": "material", "language": "en"},
        "hooks": [str(DOCS.parent / "hooks" / "notebook_pages.py")],
        "extra": {"ui": {"plot_alt": "the plot"}},
        "plugins": [{"mkdocs-jupyter": options}],
        "markdown_extensions": [{"toc": {"permalink": True}}],
    }
    (tmp_path / "mkdocs.yml").write_text(json.dumps(config), encoding="utf-8")
    build(load_config(str(tmp_path / "mkdocs.yml"), strict=True))
    return (tmp_path / "site" / "nb" / "index.html").read_text(encoding="utf-8")


def test_mkdocs_jupyter_shows_stored_outputs_and_runs_nothing(tmp_path, monkeypatch):
    """A cell that raises if run (`1 / 0`) shows its stored output through the real plugin and
    hook; a stored error stops the build."""
    nb = json.loads(SAMPLE_NOTEBOOK.read_text(encoding="utf-8"))
    html = build_one_notebook(tmp_path / "clean", monkeypatch, nb)
    article = html[html.index("<article") : html.index("</article>")]
    assert '<div class="highlight"><pre><code>stored\n</code></pre></div>' in article
    assert "ZeroDivisionError" not in html and "Traceback" not in html
    assert '<h2 id="a-table">A table<a class="headerlink" href="#a-table"' in article
    assert '<a href="#a-table" class="md-nav__link">' in html  # the toc, on the same id
    assert '<a href="../server/#options">' in article
    assert (tmp_path / "clean" / "site" / "nb" / "nb-1.svg").read_bytes().startswith(b"<?xml")
    assert (tmp_path / "clean" / "site" / "nb" / "nb.ipynb").exists()  # include_source

    nb["cells"][1]["outputs"] = [
        {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "", "traceback": []}
    ]
    with pytest.raises(ValueError, match="nb.ipynb stores an error: ZeroDivisionError"):
        build_one_notebook(tmp_path / "error", monkeypatch, nb)


@pytest.mark.parametrize("lang", LANGS)
def test_rendered_with_its_results_and_plot(site, lang):
    folder = site / ("" if lang == "ko" else "en") / "experiment"
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert '"cell_type"' not in html  # a page, not the notebook's JSON
    assert f'<html lang="{lang}"' in html
    stored = joined(code_cells(notebook(lang))[2]["outputs"][0]["data"]["text/markdown"])
    first_row = stored.splitlines()[2].strip("| ").split(" | ")
    headers = "".join(rf"<th[^>]*>{re.escape(h)}</th>\s*" for h in ["N", *LABELS[lang].values()])
    cells = "".join(rf"<td[^>]*>{re.escape(c)}</td>\s*" for c in first_row)
    assert re.search(rf"<table class=\"site-table\">\s*<thead>\s*<tr>\s*{headers}", html), (
        "the table's header"
    )
    assert re.search(rf"<tr>\s*{cells}</tr>", html), "the stored times are not shown"
    plot = re.search(r'<img alt="[^"]+" src="(experiment-1\.svg)" loading="lazy" width="\d+"', html)
    assert plot, "no plot"
    written = (folder / plot.group(1)).read_text(encoding="utf-8")
    assert written.startswith('<?xml version="1.0"')  # a real SVG
    assert AXES[lang][1] in written  # the stored run's plot, in the page's language
    assert "data:image" not in html and "jp-Cell" not in html  # moved to a file, wrappers gone
    assert "Traceback" not in html
    assert "jupyter-wrapper{--md-red" not in html and "cdnjs" not in html  # slimmed by the hook
    alt = "N에 따른 네 가지 방법의 총 시간 그래프" if lang == "ko" else "Total time against N"
    assert f'<img alt="{alt}' in html
    assert re.search(r'<a href="[^"]*/experiment/experiment\.ipynb"[^>]* download>', html)
    downloaded = json.loads((folder / "experiment.ipynb").read_text(encoding="utf-8"))
    assert downloaded["cells"] == notebook(lang)["cells"]
