"""A Korean page is Korean all the way down (issue 11): its tables, figures, alt texts, code
comments written for the site and the notebook's plot labels are Korean.

What may stay in Latin letters is what is a name, not a word of the site: the identifiers of the
post's code and of the libraries (`recv()`, `BlockingIOError`, `EAGAIN`, `server.py`), file names,
numbers, and the names of Python and of the operating systems (the glossary writes those in Latin
letters). The snippet files are shared by both languages on purpose (tests/test_parity.py), so
they carry no prose of their own: an explanation is a numbered comment `# (1)` whose note, under the
block, is written per language. Any other comment or docstring in a snippet a Korean page shows
would reach the Korean reader in English, and fails here.
"""

import ast
import io
import json
import re
import tokenize

import pytest

from support.pages import FENCE, INCLUDE, comments, includes, pages, read
from support.paths import DOCS, ROOT

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


def spaces_before_parentheses(text):
    """Lines of prose that start with "(" right after a word on the line before: Markdown turns
    that line break into a space, and Korean writes a parenthesis against its word
    ("끝난다(소켓을 닫았다)", not "끝난다 (소켓을 닫았다)")."""
    found, fence, before = [], None, ""
    for number, line in enumerate(text.splitlines(), 1):
        marker = re.match(r"\s*(```|~~~)", line)
        if marker:
            fence = None if fence and line.strip().startswith(fence) else (fence or marker[1])
        elif (
            fence is None
            and line.strip().startswith("(")
            and re.search(r"[가-힣A-Za-z0-9`\])]$", before.strip())
        ):
            found.append(number)
        before = line if fence is None else ""
    return found


@pytest.mark.parametrize("page", [p for p in KO_PAGES if p.endswith(".md")])
def test_no_space_before_a_parenthesis_from_a_line_break(page):
    assert spaces_before_parentheses(read("ko", page)) == [], f"docs/ko/{page}: lines"


def test_the_parenthesis_check_can_fail():
    assert spaces_before_parentheses("끝난다\n(소켓을 닫았다).\n\n```\nf(x)\n(y)\n```\n") == [2]


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


MARKER = re.compile(r"# \(\d+\)")  # explained by the note of the same number under the block


def prose_in_code(source, name):
    """`name:line: text` for every comment or docstring in `source` a reader would read as prose:
    all but the `# (N)` markers, the `#>` output lines, tool pragmas and a shebang. A module
    docstring the program reads (`__doc__`: its --help text) is output, like its messages."""
    found = []
    for t in tokenize.generate_tokens(io.StringIO(source).readline):
        if t.type != tokenize.COMMENT:
            continue
        text, line = t.string, t.start[0]
        if (
            MARKER.fullmatch(text)
            or text.startswith("#>")
            or PRAGMA.match(text.lstrip("# "))
            or (line == 1 and text.startswith("#!"))
        ):
            continue
        found.append(f"{name}:{line}: {text}")
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if ast.get_docstring(node) is None or (node is tree and "__doc__" in source):
            continue
        first = node.body[0]
        found.append(f"{name}:{first.lineno}: {ast.get_source_segment(source, first)[:60]}")
    return found


KO_SNIPPETS = sorted(
    {path for page in KO_PAGES for path in includes(read("ko", page)) if path.endswith(".py")}
)


@pytest.mark.parametrize("snippet", KO_SNIPPETS)
def test_snippets_shown_on_korean_pages_carry_no_english_prose(snippet):
    """The snippet files are shared: a comment in one reaches the Korean reader as it is."""
    source = (ROOT / snippet).read_text(encoding="utf-8")
    assert prose_in_code(source, snippet) == []


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
    assert KO_SNIPPETS and "snippets/server.py" in KO_SNIPPETS
    shown = prose_in_code(
        '#!/usr/bin/env python3\n"""Echo server."""\nTIMEOUT = 3  # seconds\n'
        "def f():\n    '''Does it.'''\n    return 1  # (1)\n"
        "print(f())  # noqa: T201\n#> 1\n# (2) and more\n",
        "x.py",
    )
    assert shown == [
        "x.py:3: # seconds",
        "x.py:9: # (2) and more",
        'x.py:2: """Echo server."""',
        "x.py:5: '''Does it.'''",
    ]
    assert prose_in_code('"""Usage: x.py PORT"""\nprint(__doc__)\n', "x.py") == []


def test_the_theme_speaks_the_page_language(site):
    """The light/dark switch is labelled in the page's language (mkdocs.yml: per-language theme)."""
    korean = (site / "index.html").read_text(encoding="utf-8")
    english = (site / "en" / "index.html").read_text(encoding="utf-8")
    assert "어두운 화면으로 바꾸기" in korean and "Switch to" not in korean
    assert "Switch to dark mode" in english and "화면으로 바꾸기" not in english
