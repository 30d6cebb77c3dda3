"""The Korean and English pages match: same pages, same snippet includes, same anchors."""

import re

import pytest
from conftest import ANCHOR, FENCE, HEADING, INCLUDE, LANGS, ROOT, SNIPPETS, includes, pages, read


def headings(text):
    """Headings outside code fences, as (level, text)."""
    text = FENCE.sub("", text)
    return [(len(m.group(1)), m.group("text")) for m in HEADING.finditer(text)]


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
        for level, text in headings(read(lang, page)):
            match = ANCHOR.search(text)
            assert match, f"{lang}/{page}: heading {text!r} has no {{ #anchor }}"
            found[lang].append((level, match.group("id")))
    assert found["ko"] == found["en"]


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
