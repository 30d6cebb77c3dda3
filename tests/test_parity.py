"""The Korean and English pages match: same pages, same snippet includes, same anchors."""

import json
import re

import pytest

from support.pages import ANCHOR, FENCE, HEADING, INCLUDE, includes, page_html, pages, read
from support.paths import LANGS, ROOT, SNIPPETS

# A notebook heading's id: an anchor Jupyter shows nowhere, which hooks/notebook_markup.py makes
# the id of the heading mkdocs-jupyter renders (and of its table-of-contents link), like the
# `{ #id }` the Markdown pages write.
NB_ANCHOR = re.compile(r'<a id="(?P<id>[a-z0-9-]+)"></a>\s*$')


def headings(text):
    """Headings outside code fences, as (level, text)."""
    text = FENCE.sub("", text)
    return [(len(m.group(1)), m.group("text")) for m in HEADING.finditer(text)]


def markdown_of(lang, page):
    """A page's Markdown; for a notebook, its Markdown cells (its code cells hold no heading)."""
    text = read(lang, page)
    if not page.endswith(".ipynb"):
        return text
    cells = json.loads(text)["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_same_pages_in_both_languages():
    assert pages("ko") == pages("en")
    assert pages("ko")  # and there are some


@pytest.mark.parametrize("page", pages("ko"))
def test_same_includes_in_the_same_order(page):
    assert includes(read("ko", page)) == includes(read("en", page))


@pytest.mark.parametrize("page", pages("ko"))
def test_same_heading_anchors(page):
    found = {}
    for lang in LANGS:
        found[lang] = []
        anchor = NB_ANCHOR if page.endswith(".ipynb") else ANCHOR
        for level, text in headings(markdown_of(lang, page)):
            match = anchor.search(text)
            assert match, f"{lang}/{page}: heading {text!r} has no {anchor.pattern}"
            found[lang].append((level, match.group("id")))
    assert found["ko"] == found["en"]
    assert found["ko"], f"{page}: no heading"
    ids = [anchor_id for _, anchor_id in found["ko"]]
    assert len(ids) == len(set(ids)), f"{page}: duplicate ids {ids}"


def built_headings(markup):
    """(level, id) of the headings in a built page's article; id None when it has none."""
    article = markup[markup.index("<article") : markup.index("</article>")]
    return [
        (int(m.group(1)), m.group(3))
        for m in re.finditer(r"<h([1-6])\b([^>]*?\bid=\"([^\"]*)\")?[^>]*>", article)
    ]


@pytest.mark.parametrize("page", pages("ko"))
def test_built_pages_have_the_same_unique_heading_ids(site, page):
    """On the built pages, notebooks included: every heading has a non-empty id, no id twice,
    the same ids in both languages, and every table-of-contents link lands on one of them."""
    found = {}
    for lang in LANGS:
        markup = page_html(site, lang, page)
        found[lang] = built_headings(markup)
        ids = [anchor_id for _, anchor_id in found[lang]]
        assert all(ids), f"{lang}/{page}: headings without an id: {found[lang]}"
        assert len(ids) == len(set(ids)), f"{lang}/{page}: duplicate ids {ids}"
        toc = re.findall(r'<a href="#([^"]*)" class="md-nav__link', markup)
        assert set(toc) <= set(ids), f"{lang}/{page}: table of contents links {set(toc) - set(ids)}"
        sections = {anchor_id for level, anchor_id in found[lang] if level == 2}
        assert sections <= set(toc), f"{lang}/{page}: not in the toc: {sections - set(toc)}"
    assert found["ko"] == found["en"]


def test_the_built_heading_check_can_fail():
    """The Korean notebook page as mkdocs-jupyter alone builds it: ids "n" and "", twice each."""
    before = '<article><h1 id="n">a</h1><h2 id="">b</h2><h2 id="n">c</h2><h2>d</h2></article>'
    assert built_headings(before) == [(1, "n"), (2, ""), (2, "n"), (2, None)]


@pytest.mark.parametrize("lang", LANGS)
def test_every_python_block_is_a_snippet_include(lang):
    for page in pages(lang):
        for m in FENCE.finditer(read(lang, page)):
            language = m.group("info").split()[0] if m.group("info").strip() else ""
            if language in ("python", "py", "python3", "pycon"):
                assert includes(m.group("body")) and not INCLUDE.sub("", m.group("body")).strip(), (
                    f"{lang}/{page}: a Python block that is not an include of a snippet file:\n"
                    f"{m.group('body')}"
                )


@pytest.mark.parametrize("lang", LANGS)
def test_every_snippet_and_output_is_shown(lang):
    shown = {path for page in pages(lang) for path in includes(read(lang, page))}
    files = {
        p.relative_to(ROOT).as_posix()
        for p in SNIPPETS.rglob("*")
        if p.suffix in (".py", ".txt", ".md")
    }
    assert files - shown == set(), f"not included in any {lang} page"
    assert shown - files == set(), f"{lang} pages include files that do not exist"


@pytest.mark.parametrize("lang", LANGS)
def test_every_numbered_comment_has_its_note(lang):
    """A snippet's `# (N)` comments are explained, in order, by the list right under its block."""
    for page in pages(lang):
        text = read(lang, page)
        for m in FENCE.finditer(text):
            files = [p for p in includes(m.group("body")) if p.endswith(".py")]
            if not files:
                continue
            source = (ROOT / files[0]).read_text(encoding="utf-8")
            markers = [int(n) for n in re.findall(r"  # \((\d+)\)$", source, re.M)]
            assert markers == list(range(1, len(markers) + 1)), f"{files[0]}: markers {markers}"
            below = text[m.end() :].lstrip("\n").split("\n\n", 1)[0]
            notes = [int(n) for n in re.findall(r"^ *(\d+)\. ", below, re.M)]
            assert notes == markers, f"{lang}/{page}: {files[0]}: markers {markers}, notes {notes}"
