"""The strict, offline build of both languages, checked on the HTML it produces."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urljoin

import pytest

from support.ahead import job, needs, result
from support.pages import includes, page_html, pages, read, text_of, url_of
from support.paths import LANGS, ROOT
from support.processes import lower_priority
from support.site import LAZY_MKDOCS, SITE_PATH, SITE_URL


def test_html_lang(site):
    assert '<html lang="ko"' in (site / "index.html").read_text()
    assert '<html lang="en"' in (site / "en" / "index.html").read_text()


@pytest.mark.parametrize("lang", LANGS)
def test_included_files_are_rendered(site, lang):
    for page in pages(lang):
        rendered = text_of(page_html(site, lang, page))
        for path in includes(read(lang, page)):
            lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
            if path.endswith(".md"):  # a generated Markdown table: every cell is rendered
                cells = [cell for line in lines[2:] for cell in line.split("|")]
                shown = [re.sub(r":[a-z-]+:|`", "", cell).strip() for cell in cells]
                assert all(cell in rendered for cell in shown), (
                    f"{lang}/{page}: {path} not rendered"
                )
                continue
            longest = max(lines, key=len)
            assert longest in rendered, f"{lang}/{page}: {path} not rendered"


@pytest.mark.parametrize("lang", LANGS)
def test_each_page_links_to_itself_in_the_other_language(site, lang):
    """The language switcher and the hreflang alternates point at the same page."""
    for page in pages(lang):
        markup = page_html(site, lang, page)
        for other in LANGS:
            hrefs = re.findall(rf'<a href="([^"]+)" hreflang="{other}"', markup)
            assert len(hrefs) == 1, (lang, page, other)  # the switcher's link
            here, there = (SITE_PATH + url_of(x, page)[1:] for x in (lang, other))
            assert urljoin(here, hrefs[0]) == there, (lang, page)
        # hreflang alternates are in the sitemap, where Material's script does not chase them
        assert '<link rel="alternate"' not in markup


def test_sitemap_lists_both_languages_with_alternates(site):
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    for page in pages("ko"):
        ko, en = (SITE_URL.rstrip("/") + url_of(lang, page) for lang in LANGS)
        assert f"<loc>{ko}</loc>" in sitemap
        assert f'<xhtml:link rel="alternate" hreflang="en" href="{en}"/>' in sitemap
        assert f'<xhtml:link rel="alternate" hreflang="ko" href="{ko}"/>' in sitemap


def test_no_request_leaves_the_site(site):
    for path in site.rglob("*.html"):
        markup = path.read_text(encoding="utf-8")
        markup = re.sub(r'<link rel="canonical"[^>]*>', "", markup)  # names the page, loads nothing
        for url in re.findall(
            r'<(?:script|img|link|iframe|source)\b[^>]*\b(?:src|href)="([^"]+)"', markup
        ):
            assert not re.match(r"(https?:)?//", url), f"{path}: loads {url}"
        assert "fonts.googleapis" not in markup and "fonts.gstatic" not in markup


def test_headings_keep_their_anchors(site):
    for lang in LANGS:
        markup = page_html(site, lang, "non-blocking.md")
        for anchor in ("non-blocking-socket", "no-server", "corrected-client"):
            assert f'id="{anchor}"' in markup, (lang, anchor)


def test_search_index_has_korean_words(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = {doc["location"]: doc for doc in index["docs"]}
    assert "논블로킹" in docs["non-blocking/"]["title"]
    assert "타이밍에 달려" in docs["non-blocking/#connect-and-recv-do-not-wait"]["text"]
    english = json.loads((site / "en" / "search" / "search_index.json").read_text())["docs"]
    titles = {doc["location"]: doc["title"] for doc in english}  # relative to /en/
    assert "Non-blocking sockets" == titles["non-blocking/"]


def test_one_404_page_in_both_languages(site):
    page = (site / "404.html").read_text(encoding="utf-8")
    assert "404 - 페이지를 찾을 수 없습니다" in page and "404 - Page not found" in page
    assert f'href="{SITE_URL}"' in page and f'href="{SITE_URL}en/"' in page


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_has_a_description_in_its_language(site, lang):
    hangul = re.compile("[\uac00-\ud7a3]")
    for page in pages(lang):
        markup = page_html(site, lang, page)
        found = re.findall(r'<meta name="description" content="([^"]+)"', markup)
        assert len(found) == 1, (lang, page)
        assert bool(hangul.search(found[0])) == (lang == "ko"), (lang, page, found)


def test_scripts_are_deferred_and_the_index_waits_for_search(site):
    """overrides/main.html: Material's scripts load with `defer`, and the inline script that
    holds the search index back until the search box is used runs before them."""
    for lang in LANGS:
        markup = page_html(site, lang, "index.md")
        scripts = re.findall(r"<script\b[^>]*>", markup)
        external = [s for s in scripts if " src=" in s]
        assert external and all(" defer " in s for s in external), external
        hold = markup.index("XMLHttpRequest.prototype.send")
        assert hold < markup.index("<script defer src="), "the hold must run before Material"


# Runs tools/lazy_mkdocs.py as `nox -s docs` does, then says how many pages went through
# Markdown and whether nbconvert was imported.
LAZY_BUILD_REPORT = """
import json, runpy, sys, markdown
converted = []
convert = markdown.Markdown.convert
markdown.Markdown.convert = lambda self, text: converted.append(1) or convert(self, text)
sys.argv = ["mkdocs", "build", "--strict", "--site-dir", sys.argv[1]]
try:
    runpy.run_path(%r, run_name="__main__")
except SystemExit as stop:
    assert not stop.code, stop.code
print(json.dumps({"converted": len(converted), "nbconvert": "nbconvert" in sys.modules}))
"""


def tree(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@job("plain-mkdocs-build", seconds=6)
def plain_and_again():
    """Plain `mkdocs build` with the caches off, then tools/lazy_mkdocs.py again, its caches
    full; both trees."""
    result("site")  # the tested build has filled the caches
    env = os.environ | {"NO_MKDOCS_2_WARNING": "1", "SITE_URL": SITE_URL}
    folder = Path(tempfile.mkdtemp(prefix="plain-mkdocs-"))

    def run(*args, **more):
        done = subprocess.run(
            lower_priority(args),
            cwd=ROOT,
            env=env | more,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    try:
        plain = folder / "plain"
        run(
            sys.executable, "-m", "mkdocs", "build", "--strict", "-d", plain, SITE_BUILD_CACHE="off"
        )
        again = folder / "again"
        report = run(sys.executable, "-c", LAZY_BUILD_REPORT % LAZY_MKDOCS, again)
        return tree(plain), tree(again), json.loads(report.splitlines()[-1])
    finally:
        shutil.rmtree(folder)


@needs("plain-mkdocs-build")
def test_the_caches_and_lazy_imports_write_what_plain_mkdocs_writes(site, ahead):
    """The tested site is built by tools/lazy_mkdocs.py with hooks/build_cache.py's caches (as
    `nox -s docs` and `nox -s serve` build it); plain `mkdocs build` with the caches off writes
    the same files, byte for byte. Built again, with the caches now full, no page goes through
    Markdown and nbconvert is never imported."""
    plain, again, report = ahead("plain-mkdocs-build")
    expected = tree(site)
    assert plain == expected and again == expected
    assert report == {"converted": 0, "nbconvert": False}
