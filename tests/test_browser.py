"""The built site in real headless Chromium (Debian's package), driven by Playwright."""

import os
import shutil
from urllib.parse import urlsplit

import pytest
from conftest import ROOT
from playwright.sync_api import expect, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    assert executable, "Chromium is missing: apt-get install chromium (see .ci/run)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    """A fresh page; any request to a host other than the local site fails the test."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    context.set_default_timeout(10_000)
    outside = []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert outside == [], "requests left the machine"
    assert errors == [], "console errors"


def switch_language(page, lang):
    page.locator(".md-header__option .md-select").hover()
    with page.expect_navigation():
        page.locator(f'.md-select__link[hreflang="{lang}"]').click()


def test_language_switch_keeps_page_and_section(page, base_url):
    page.goto(f"{base_url}/non-blocking/#no-server")
    switch_language(page, "en")
    assert page.url == f"{base_url}/en/non-blocking/#no-server"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h2#no-server")).to_contain_text("Correction 2")
    switch_language(page, "ko")
    assert page.url == f"{base_url}/non-blocking/#no-server"
    expect(page.locator("h2#no-server")).to_contain_text("바로잡기 2")


def test_copy_button_copies_the_snippet_file(page, base_url):
    page.goto(f"{base_url}/en/blocking/")
    block = page.locator("pre:has(code)").first
    block.hover()
    block.locator('button[data-md-type="copy"]').click()
    copied = page.evaluate("navigator.clipboard.readText()")
    source = (ROOT / "snippets" / "blocking_client.py").read_text(encoding="utf-8")
    assert copied == source.rstrip("\n")


@pytest.mark.parametrize(
    ("start", "query", "expected"),
    [("/", "타이밍에", "/non-blocking/"), ("/en/", "timing", "/en/non-blocking/")],
)
def test_search_finds_the_page(page, base_url, start, query, expected):
    page.goto(base_url + start, wait_until="networkidle")  # search index and worker loaded
    search = page.locator("input.md-search__input")
    search.click()
    search.fill(query)
    # Material searches on keyup; an IME sends one when Hangul input is done, fill() does not.
    search.press("End")
    first = page.locator(".md-search-result__item a").first
    expect(first).to_be_visible()
    hrefs = page.locator(".md-search-result__item > a").evaluate_all("els => els.map(e => e.href)")
    assert any(urlsplit(h).path == expected for h in hrefs), hrefs


def test_light_and_dark_toggle(page, base_url):
    page.goto(f"{base_url}/en/")
    body = page.locator("body")
    scheme = body.get_attribute("data-md-color-scheme")
    page.locator("form[data-md-component=palette] label:visible").click()
    other = "slate" if scheme == "default" else "default"
    expect(body).to_have_attribute("data-md-color-scheme", other)
    page.reload()  # the choice is remembered
    expect(body).to_have_attribute("data-md-color-scheme", other)


@pytest.mark.parametrize("start", ["/experiment/", "/en/experiment/"])
def test_notebook_page_shows_its_plot(page, base_url, start):
    page.goto(base_url + start)
    plot = page.locator('article img[src="experiment-1.svg"]')
    plot.scroll_into_view_if_needed()  # it loads lazily
    expect(plot).to_be_visible()
    page.wait_for_function("img => img.complete", arg=plot.element_handle())
    assert plot.evaluate("img => img.complete && img.naturalWidth > 300")
