"""A Korean page is Korean all the way down (issue 11): its tables, figures, alt texts, code
comments written for the site and the notebook's plot labels are Korean.

What may stay in Latin letters is what is a name, not a word of the site: the identifiers of the
post's code and of the libraries (`recv()`, `BlockingIOError`, `EAGAIN`, `server.py`), file names,
numbers, and the names of Python and of the operating systems (the glossary writes those in Latin
letters). The snippet files are shared by both languages on purpose (tests/test_parity.py); their
numbered comments are explained in Korean under each block, so they are not checked here.
"""

import json
import re

import pytest
from conftest import DOCS, FENCE, INCLUDE, ROOT, pages, read
from test_glossary import comments

HANGUL = re.compile(r"[가-힣]")
PRAGMA = re.compile(r"(?:noqa|type:|pragma|fmt:)")  # for tools, not for readers
NAMES = {"errno", "Python", "Linux", "macOS", "Windows", "FreeBSD", "CPU", "TCP", "N"}
IDENTIFIER = re.compile(
    r"`[^`]*`"  # code
    r"|b'[^']*'"  # a bytes repr
    r"|--?[a-z][\w-]*"  # an option
    r"|[\w.]+\.(?:py|svg|md|ipynb|json)\b"  # a file name
    r"|\w+\(\)"  # a call
    r"|\b[A-Z][a-z]+[A-Z]\w*|\b\w*Error\b"  # CamelCase: an exception or a class
    r"|\b(?:E|WSAE)[A-Z]+\b|\b[A-Z_]{2,}\b"  # errno names, constants
    r"|\b[a-z]+_[a-z_]+\b"  # snake_case
    r"|\d[\d.,]*"
)


def foreign(text):
    """The Latin-letter words of `text` that are neither names nor identifiers; [] if Korean."""
    if HANGUL.search(text):
        return []
    return [w for w in re.findall(r"[A-Za-z]{2,}", IDENTIFIER.sub(" ", text)) if w not in NAMES]


def tables(text):
    """The header rows of the Markdown tables in `text`, with the tables its includes bring."""
    text = FENCE.sub("", text)
    for path in INCLUDE.findall(text):
        if path.endswith(".md"):
            text += "\n\n" + (ROOT / path).read_text(encoding="utf-8")
    return re.findall(r"^ *(\|.*\|) *\n *\|[-:| ]+\| *$", text, re.M)


def markdown(page):
    """A page's Markdown; for a notebook, its Markdown cells."""
    text = read("ko", page)
    if page.endswith(".ipynb"):
        cells = json.loads(text)["cells"]
        return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return text


KO_PAGES = pages("ko")


@pytest.mark.parametrize("page", KO_PAGES)
def test_table_headers_are_korean(page):
    found = []
    for header in tables(markdown(page)):
        for cell in header.strip("|").split("|"):
            if foreign(cell):
                found.append(cell.strip())
    assert found == [], f"ko/{page}: English table headers"


@pytest.mark.parametrize("page", KO_PAGES)
def test_figures_and_alt_texts_are_korean(page):
    found = []
    for alt, src in re.findall(r"!\[([^\]]*)\]\(([^)\s]+)\)", FENCE.sub("", markdown(page))):
        if not HANGUL.search(alt):
            found.append(f"alt text {alt!r}")
        if src.endswith(".svg"):
            svg = (DOCS / "ko" / page).parent.joinpath(src).resolve().read_text(encoding="utf-8")
            for label in re.findall(r"<text\b[^>]*>([^<]*)</text>", svg):
                if foreign(label):
                    found.append(f"{src}: {label!r}")
            assert re.search(r"<text\b", svg), f"{src}: its labels must stay text"
    assert found == [], f"ko/{page}"


@pytest.mark.parametrize("page", KO_PAGES)
def test_prose_paragraphs_are_korean(page):
    """No paragraph written in English, such as a "Measured on: …" line under a table."""
    text = FENCE.sub("", markdown(page))
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # front matter
    text = re.sub(r"<!--.*?-->|\]\([^)]*\)|\{ ?#[^}]*\}|^ *\|.*\| *$", " ", text, flags=re.S | re.M)
    found = [p.strip() for p in re.split(r"\n\s*\n", text) if len(foreign(p)) >= 3]
    assert found == [], f"ko/{page}"


@pytest.mark.parametrize("page", KO_PAGES)
def test_code_written_for_the_page_has_korean_comments(page):
    """Comments in code blocks typed into the page (not the shared snippet files), and in the
    notebook's code cells; and the labels a notebook puts on its plots."""
    text = read("ko", page)
    if page.endswith(".ipynb"):
        cells = [c for c in json.loads(text)["cells"] if c["cell_type"] == "code"]
        sources = ["".join(c["source"]) for c in cells]
    else:
        sources = [
            m.group("body")
            for m in FENCE.finditer(text)
            if not INCLUDE.search(m.group("body")) and "python" in m.group("info")
        ]
    found = []
    for source in sources:
        found += [f"# {c}" for c in comments(source) if foreign(c) and not PRAGMA.match(c)]
        labels = re.findall(
            r"(?:set_[xy]?label|set_title|suptitle|label=)\(?\s*f?([\"'])(.*?)\1", source
        )
        found += [f"label {label!r}" for _, label in labels if foreign(label)]
    assert found == [], f"ko/{page}"


def test_the_checks_can_fail():
    """English the site wrote is caught; names and identifiers are not."""
    assert foreign("Measured on: AMD EPYC, 2 CPUs")
    assert foreign("ms since the first call (server.py --delay 1)")
    assert foreign("total time (s)") and foreign("N (clients)")
    assert not foreign("`server.py`") and not foreign("1006.93밀리초 → b'hello from server.py\\n'")
    assert not foreign("0.56 ms → BlockingIOError EINPROGRESS".replace(" ms", "밀리초"))
    assert not foreign("recv()") and not foreign("blocking_client.py") and not foreign("Linux")
    assert tables("| server | p50 ms |\n|---|---|\n| a | b |\n") == ["| server | p50 ms |"]
    assert comments("x = 1  # seconds the server waits\n") == ["seconds the server waits"]
