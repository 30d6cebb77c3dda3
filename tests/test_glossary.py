"""Both languages follow the glossary (tests/glossary.toml), and the glossary pages show it."""

import re
import tomllib
from pathlib import Path

import pytest
from conftest import FENCE, INCLUDE, LANGS, pages, read

TERMS = tomllib.loads((Path(__file__).parent / "glossary.toml").read_text(encoding="utf-8"))["term"]


def prose(text):
    """Page text without code, link targets or includes: file names are not prose."""
    text = INCLUDE.sub("", FENCE.sub("", text))
    return re.sub(r"`[^`\n]*`|\]\([^)]*\)|\{ ?#[^}]*\}", "", text)


@pytest.mark.parametrize("lang", LANGS)
def test_pages_use_no_unapproved_variant(lang):
    found = []
    for page in pages(lang):
        text = prose(read(lang, page))
        for term in TERMS:
            for variant in term[f"{lang}_avoid"]:
                if variant in text:
                    found.append(f"{lang}/{page}: {variant!r} (use {term[lang]!r})")
    assert found == []


@pytest.mark.parametrize("lang", LANGS)
def test_glossary_page_lists_every_term(lang):
    other = "en" if lang == "ko" else "ko"
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+) \|", read(lang, "glossary.md"), re.M)
    assert [(a, b) for a, b in rows[1:]] == [(t[lang], t[other]) for t in TERMS]


def test_variants_are_not_the_approved_terms():
    for term in TERMS:
        for lang in LANGS:
            assert not any(term[lang] in variant for variant in term[f"{lang}_avoid"]), term
