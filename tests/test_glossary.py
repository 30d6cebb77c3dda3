"""Both languages follow the glossary (tests/glossary.toml), and the glossary pages show it.

Pages and notebooks are checked: a notebook's Markdown cells, and the comments of its code cells.
The register is checked too: 한다체 in Korean prose, 합니다체 in the Korean UI strings.
"""

import json
import re
import tomllib
from pathlib import Path

import pytest

from support.pages import FENCE, INCLUDE, comments, pages, read
from support.paths import LANGS, ROOT

TERMS = tomllib.loads((Path(__file__).parent / "glossary.toml").read_text(encoding="utf-8"))["term"]
MUST_CATCH = ["추적 정보", "듣기 소켓", "절대값", "단추", "블로킹 되지"]  # issue 11


def prose(text):
    """Page text without code, link targets or includes: file names are not prose."""
    text = INCLUDE.sub("", FENCE.sub("", text))
    return re.sub(r"`[^`\n]*`|\]\([^)]*\)|\{ ?#[^}]*\}", "", text)


def notebook_text(text):
    """What a reader reads in a notebook: its Markdown cells, and its code cells' comments."""
    parts = []
    for cell in json.loads(text)["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            parts.append(prose(source))
        elif cell["cell_type"] == "code":
            parts.extend(comments(source))
    return "\n\n".join(parts)


def readable(lang, page):
    """The text of a page a glossary term can appear in."""
    text = read(lang, page)
    if page.endswith(".ipynb"):
        return notebook_text(text)
    if page == "glossary.md":  # its table shows the variants on purpose (checked below)
        text = re.sub(r"^\|.*\|$", "", text, flags=re.M)
    return prose(text)


def variants(lang, text):
    """Every unapproved variant in `text`, as a message."""
    found = []
    for term in TERMS:
        for variant in term[f"{lang}_avoid"]:
            if variant in text:
                found.append(f"{variant!r} (use {term[lang]!r})")
        for pattern in term.get(f"{lang}_avoid_re", []):
            for match in re.finditer(pattern, text):
                found.append(f"{match.group(0)!r} (use {term[lang]!r})")
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_pages_use_no_unapproved_variant(lang):
    found = [
        f"{lang}/{page}: {v}" for page in pages(lang) for v in variants(lang, readable(lang, page))
    ]
    assert found == []


def test_the_check_catches_what_issue_11_found():
    """The variants the review found are each reported, in a page and in a notebook comment."""
    for variant in MUST_CATCH:
        assert variants("ko", prose(f"서버는 {variant}를 쓴다.\n")), variant
        cell = {"cell_type": "code", "source": [f"x = 1  # {variant}\n"]}
        assert variants("ko", notebook_text(json.dumps({"cells": [cell]}))), variant
    assert variants("ko", "## 바쁜 대기 대 selectors { #x }\n")
    assert variants("ko", "[바쁜 대기 대 selectors](busy-waiting.md)")
    assert variants("ko", "RST, 곧 리셋") and not variants("ko", "곧바로 돌아온다")


@pytest.mark.parametrize("lang", LANGS)
def test_glossary_page_lists_every_term(lang):
    other = "en" if lang == "ko" else "ko"
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+) \| ([^|]*) \|", read(lang, "glossary.md"), re.M)
    expected = [(t[lang], t[other], ", ".join(t["ko_known"])) for t in TERMS]
    assert [(a, b, c.strip()) for a, b, c in rows[1:]] == expected


def test_variants_are_not_the_approved_terms():
    for term in TERMS:
        for lang in LANGS:
            # the approved term itself must not count as a variant
            assert not any(variant in term[lang] for variant in term[f"{lang}_avoid"]), term
            for pattern in term.get(f"{lang}_avoid_re", []):
                assert not re.search(pattern, term[lang]), term
        for known in term["ko_known"]:  # shown on the glossary page, avoided everywhere else
            assert variants("ko", known), known


@pytest.mark.parametrize("page", pages("ko"))
def test_english_word_given_on_first_use(page):
    """A term chosen against other usage (백프레셔) comes with its English the first time."""
    text = re.sub(r"\A---\n.*?\n---\n", "", readable("ko", page), flags=re.S)  # the body
    for term in TERMS:
        if "en_first" in term and term["ko"] in text:
            first = text[text.index(term["ko"]) :]
            assert first.startswith(f"{term['ko']}({term['en_first']})"), (page, first[:40])


def formal(text):
    """합니다체 endings (a syllable with final ㅂ, then 니다: 합니다, 입니다, 됩니다, 습니다)."""
    return [
        m.group(0)
        for m in re.finditer(r"([가-힣])니다", text)
        if (ord(m.group(1)) - 0xAC00) % 28 == 17
    ]


@pytest.mark.parametrize("page", pages("ko"))
def test_korean_prose_is_haerache(page):
    assert formal(readable("ko", page)) == []


def ui_sentences():
    """The Korean UI strings that are sentences: site description, footer, 404 page."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    found = [
        re.search(rf"^{key}: (.+)$", config, re.M).group(1)
        for key in ("site_description", "copyright")
    ]
    # The site's own UI strings: the Korean language's extra.ui (the 404 page's heading and
    # text; the link and button labels are noun phrases, not sentences).
    korean = config[config.index("- locale: ko") : config.index("- locale: en")]
    ui = dict(re.findall(r"^ +(\w+): (.+)$", korean.split(" ui:\n", 1)[1], re.M))
    found += [ui["not_found"], ui["not_found_text"]]
    return [s for line in found for s in re.split(r"(?<=[.!?])\s+", line) if s]


def test_korean_ui_strings_are_hamnida():
    sentences = ui_sentences()
    assert len(sentences) >= 4, sentences
    for sentence in sentences:
        if sentence.startswith("404"):  # the heading, a noun phrase after the number
            assert formal(sentence), sentence
            continue
        assert sentence.endswith(".") and formal(sentence[-4:]), sentence
    assert formal("주소가 바뀌었습니다.") and not formal("주소가 바뀌었다. 답이 아니다.")
