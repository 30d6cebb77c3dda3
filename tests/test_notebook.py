"""The experiment notebook: committed without outputs, executed by the build, rendered in both
languages with its plot, and offered for download."""

import json
import re

import pytest
from conftest import DOCS, LANGS, SNIPPETS


def notebook(lang):
    return json.loads((DOCS / lang / "experiment.ipynb").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", LANGS)
def test_committed_without_outputs(lang):
    for cell in notebook(lang)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_same_code_in_both_languages():
    def code(lang):
        return [c["source"] for c in notebook(lang)["cells"] if c["cell_type"] == "code"]

    assert code("ko") == code("en")


def test_imports_the_clients_instead_of_copying_them():
    source = "".join("".join(c["source"]) for c in notebook("en")["cells"])
    assert "import many_clients" in source
    for function in (
        "def sequential",
        "def with_threads",
        "def with_selectors",
        "def with_asyncio",
    ):
        assert function in (SNIPPETS / "many_clients.py").read_text()
        assert function not in source


@pytest.mark.parametrize("lang", LANGS)
def test_rendered_with_its_results_and_plot(site, lang):
    folder = site / ("" if lang == "ko" else "en") / "experiment"
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert '"cell_type"' not in html  # a page, not the notebook's JSON
    assert f'<html lang="{lang}"' in html
    table = re.search(r"N\s+sequential\s+threads\s+selectors\s+asyncio\s+1\s+[\d.]+s", html)
    assert table, "the timing table is missing"
    plot = re.search(r'<img alt="[^"]+" src="(experiment-1\.svg)" loading="lazy" width="\d+"', html)
    assert plot, "no plot"
    assert (folder / plot.group(1)).read_bytes().startswith(b'<?xml version="1.0"')  # a real SVG
    assert "data:image" not in html and "jp-Cell" not in html  # moved to a file, wrappers gone
    assert "Traceback" not in html
    assert "jupyter-wrapper{--md-red" not in html and "cdnjs" not in html  # slimmed by the hook
    alt = "N에 따른 네 가지 방법의 총 시간 그래프" if lang == "ko" else "Total time against N"
    assert f'<img alt="{alt}' in html
    assert re.search(r'<a href="[^"]*experiment/experiment.ipynb"[^>]* download(="")?>', html)
    downloaded = json.loads((folder / "experiment.ipynb").read_text(encoding="utf-8"))
    assert downloaded["cells"] == notebook(lang)["cells"]
