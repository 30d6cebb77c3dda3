"""One search index per language (hooks/search_per_language.py): what the build writes, and
what pages load."""

import json
import re

import pytest

from support.pages import pages
from support.paths import LANGS

# Where each language's index lives, and the folder its pages and locations are relative to.
FOLDER = {"ko": "", "en": "en/"}
HANGUL = re.compile("[\uac00-\ud7a3]")


def load(site, lang):
    return json.loads((site / FOLDER[lang] / "search" / "search_index.json").read_bytes())


def page_url(page):
    """docs/<lang>/<page> -> its location relative to its language's folder."""
    url = re.sub(r"(^|/)index\.md$|\.md$|\.ipynb$", lambda m: m.group(1) or "/", page)
    return "" if url == "/" else url


@pytest.mark.parametrize("lang", LANGS)
def test_each_language_indexes_exactly_its_own_pages(site, lang):
    index = load(site, lang)
    indexed = {doc["location"].partition("#")[0] for doc in index["docs"]}
    assert indexed == {page_url(p) for p in pages(lang)}
    # Locations are relative to the language's folder: no "en/..." left in the English index.
    assert not any(doc["location"].startswith(("en/", "/")) for doc in index["docs"])


@pytest.mark.parametrize("lang", LANGS)
def test_each_page_title_is_in_its_language(site, lang):
    titles = [doc["title"] for doc in load(site, lang)["docs"] if "#" not in doc["location"]]
    hangul = [bool(HANGUL.search(title)) for title in titles]
    # Korean page titles are Hangul; English ones have none (glossary.md keeps Korean terms in
    # its text, not in its title).
    assert hangul == [lang == "ko"] * len(titles), titles


def test_the_indexes_hold_their_own_words(site):
    ko, en = load(site, "ko"), load(site, "en")
    ko_docs = {doc["location"]: doc for doc in ko["docs"]}
    en_docs = {doc["location"]: doc for doc in en["docs"]}
    assert "논블로킹" in ko_docs["non-blocking/"]["title"]
    assert "타이밍에 달려" in ko_docs["non-blocking/#connect-and-recv-do-not-wait"]["text"]
    assert en_docs["non-blocking/"]["title"] == "Non-blocking sockets"
    assert "Non-blocking sockets" not in {doc["title"] for doc in ko["docs"]}


def test_each_index_has_the_search_settings_of_its_language(site):
    """What Material's search plugin sets for a one-language site (partials/languages/*.html)."""
    ko, en = load(site, "ko")["config"], load(site, "en")["config"]
    assert (ko["lang"], ko["separator"], ko["pipeline"]) == (["ko"], r"[\s\-]+", [" "])
    assert (en["lang"], en["separator"], en["pipeline"]) == (["en"], r"[\s\-]+", ["stopWordFilter"])


def test_korean_is_stored_as_utf8_not_escaped(site):
    raw = (site / "search" / "search_index.json").read_bytes()
    assert "논블로킹".encode() in raw and b"\\u" not in raw


@pytest.mark.parametrize(
    ("page", "base"),
    [
        ("index.html", "."),
        ("non-blocking/index.html", ".."),
        ("echo-servers/select/index.html", "../.."),
        ("en/index.html", "../en/"),
        ("en/non-blocking/index.html", "../../en/"),
        ("en/echo-servers/select/index.html", "../../../en/"),
    ],
)
def test_english_pages_take_their_folder_as_search_base(site, page, base):
    """Material fetches search/search_index.json relative to the page config's base."""
    markup = (site / page).read_text(encoding="utf-8")
    config = re.search(r'<script id="__config"[^>]*>(.*?)</script>', markup, re.S)
    assert json.loads(config.group(1))["base"] == base
