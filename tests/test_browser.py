"""The built site in real headless Chromium (Debian's package), driven by Playwright."""

import json
import os
import shlex
import shutil
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

from support.paths import LANGS, ROOT
from support.processes import lower_priority
from support.site import SITE_PATH

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium's headless shell (Debian's chromium-headless-shell; Playwright's own browser for
    headless=True: getExecutableName() in playwright-core's registry), at a lower priority
    (support.processes.NICE): no test here bounds its time.

    A page load takes the headless shell about a third of the CPU the full browser takes in its
    headless mode (0.55 s against 1.85 s, measured on this site's pages); with the full browser,
    Chromium took 30 % of the whole suite's CPU. Without the shell, the full browser runs the same
    tests, slower. CHROMIUM_PATH names another browser (the GitHub workflows' Chrome)."""
    executable = (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium-headless-shell")
        or shutil.which("chromium")
    )
    assert executable, "Chromium is missing: apt-get install chromium-headless-shell (see .ci/run)"
    wrapper = tmp_path_factory.mktemp("chromium") / "chromium"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.join(lower_priority([executable]))} "$@"\n')
    wrapper.chmod(0o700)
    executable = str(wrapper)
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


@pytest.mark.parametrize("lang", LANGS)
def test_site_js_names_the_search_dialog_and_unrole_the_copy_navs(page, base_url, lang):
    """docs/assets/site.js: the search dialog takes the search box's translated label, and the
    navs Material puts around copy buttons inside <main> are no landmarks."""
    page.goto(f"{base_url}{'/' if lang == 'ko' else '/en/'}blocking/")
    name = {"ko": "검색", "en": "Search"}[lang]
    expect(page.locator('.md-search[role="dialog"]')).to_have_attribute("aria-label", name)
    # Material adds each nav as its block scrolls into view (content.lazy).
    blocks = page.locator("main pre > code")
    for block in blocks.all():
        block.scroll_into_view_if_needed()
    navs = page.locator("main nav.md-code__nav")
    expect(navs).to_have_count(blocks.count())
    expect(navs.last).to_have_attribute("role", "none")
    assert navs.evaluate_all("ns => ns.filter(n => n.role !== 'none').length") == 0


def material_has_mounted(page):
    """Wait until Material has mounted its components on an English page: site.js names the
    search dialog on document$, which Material emits once it has."""
    expect(page.locator('.md-search[role="dialog"]')).to_have_attribute("aria-label", "Search")


def test_code_blocks_are_mounted_as_they_scroll_into_view(page, base_url):
    """content.lazy (mkdocs.yml): on load only the code blocks in view have their copy button;
    the last block of a long page gets its button when it scrolls into view, and it copies."""
    page.goto(f"{base_url}/en/tls/")
    material_has_mounted(page)
    blocks = page.locator("article pre:has(code)")
    last = blocks.last
    button = 'button[data-md-type="copy"]'
    assert page.locator(f"article {button}").count() < blocks.count() > 10
    assert last.locator(button).count() == 0
    # Not mounted yet, it is reachable by keyboard all the same (hooks/static_markup.py).
    assert last.locator("code").get_attribute("tabindex") == "0"
    last.scroll_into_view_if_needed()
    last.hover()
    last.locator(button).click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == last.locator("code").inner_text().rstrip("\n")


def test_notebook_code_has_materials_copy_button(page, base_url):
    """hooks/notebook_markup.code_blocks: notebook cells are Material code blocks, so each gets
    its copy button, which copies the cell's code."""
    page.goto(f"{base_url}/en/experiment/")
    block = page.locator("article pre:has(code)").first
    block.hover()
    block.locator('button[data-md-type="copy"]').click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == block.locator("code").inner_text().rstrip("\n")
    assert "import" in copied


# Each language searches its own index (hooks/search_per_language.py): "타이밍에" is on Korean
# pages only, "timing" on English pages only; each word is in the other language's index, never
# in both.
SEARCHES = {
    "ko": ("/", "/search/search_index.json", "검색어와 일치하는 문서가 없습니다"),
    "en": ("/en/", "/en/search/search_index.json", "No matching documents"),
}
WORDS = {"ko": ("타이밍에", "/non-blocking/"), "en": ("timing", "/en/non-blocking/")}


def local(url):
    """A URL's path within the site ("/en/x/"), wherever the site is served (SITE_PATH)."""
    path = urlsplit(url).path
    assert path.startswith(SITE_PATH), path
    return "/" + path[len(SITE_PATH) :]


def search(page, query):
    """Type `query` into Material's search box; return the search result's list element."""
    box = page.locator("input.md-search__input")
    box.click()
    box.fill(query)
    # Material searches on keyup; an IME sends one when Hangul input is done, fill() does not.
    box.press("End")
    return page.locator(".md-search-result")


def index_text(site, lang):
    index = json.loads((site / SEARCHES[lang][1].lstrip("/")).read_text(encoding="utf-8"))
    return " ".join(doc["title"] + " " + doc["text"] for doc in index["docs"]).lower()


@pytest.mark.parametrize("lang", LANGS)
def test_search_in_each_language(page, base_url, site, lang):
    """One reader's search on a page of `lang`, step by step (one page load and one index
    build for the three claims: each costs a second of Chromium's CPU):

    1. overrides/main.html holds Material's index request back until the search box is used:
       reading and scrolling fetch nothing; the "/" shortcut focuses the box and fetches this
       language's index, once, never the other's;
    2. a word of this language finds pages of this language only;
    3. a word that occurs only in the other language finds nothing, and Material says so.
    """
    start, own_index, none = SEARCHES[lang]
    query, expected = WORDS[lang]
    other = "en" if lang == "ko" else "ko"
    foreign, _ = WORDS[other]
    assert query in index_text(site, lang) and query not in index_text(site, other)
    assert foreign in index_text(site, other) and foreign not in index_text(site, lang)
    fetched = []
    page.on("request", lambda r: fetched.append(local(r.url)))
    page.goto(base_url + start, wait_until="networkidle")
    page.mouse.wheel(0, 400)  # reading, scrolling: still no index
    page.wait_for_load_state("networkidle")
    assert not [u for u in fetched if u.endswith("/search_index.json")], fetched
    with page.expect_response(lambda r: local(r.url) == own_index) as response:
        page.keyboard.press("/")  # Material's shortcut focuses the search box
    assert response.value.status == 200
    expect(page.locator("input.md-search__input")).to_be_focused()

    results = search(page, query)
    expect(results.locator(".md-search-result__item").first).to_be_visible()
    links = results.locator(".md-search-result__item > a")
    paths = [local(h) for h in links.evaluate_all("els => els.map(e => e.href)")]
    assert expected in paths, paths
    assert all(p.startswith("/en/") == (lang == "en") for p in paths), paths

    results = search(page, foreign)
    expect(results.locator(".md-search-result__meta")).to_have_text(none)
    expect(results.locator(".md-search-result__item")).to_have_count(0)
    indexes = [u for u in fetched if u.endswith("/search_index.json")]
    assert indexes == [own_index]  # this language's index, once; never the other one


def test_tables_wear_materials_table_style(page, base_url):
    """hooks/static_markup.py wraps and classes the tables at build time (Material's script
    would take each out and put it back on load); site.css gives `table.site-table` Material's
    style for a table without a class: a classless copy of the table, in the same place and
    styled by Material's CSS, computes the same."""
    page.goto(f"{base_url}/en/glossary/")
    material_has_mounted(page)
    assert page.locator("article table:not([class])").count() == 0
    wrapped = "article .md-typeset__scrollwrap > .md-typeset__table > table.site-table"
    assert page.locator(wrapped).count() == page.locator("article table").count() > 0
    assert page.locator("article .md-typeset__table .md-typeset__table").count() == 0
    ours, material = page.evaluate(
        """() => {
            const ours = document.querySelector("article table.site-table");
            const copy = ours.cloneNode(true);
            copy.removeAttribute("class");
            ours.after(copy);
            const pick = (el, names) =>
                Object.fromEntries(names.map((n) => [n, getComputedStyle(el)[n]]));
            const box = ["display", "fontSize", "maxWidth", "overflowX", "backgroundColor",
                         "borderTopWidth", "borderTopStyle", "borderTopColor", "borderRadius"];
            const cell = ["paddingTop", "paddingLeft", "textAlign", "verticalAlign",
                          "fontWeight", "minWidth", "borderTopWidth", "borderTopColor"];
            const styles = (t) => ({
                table: pick(t, box),
                th: pick(t.querySelector("th"), cell),
                td: pick(t.querySelector("td"), cell),
                a: pick(t.querySelector("a") || t, ["wordBreak"]),
            });
            const both = [styles(ours), styles(copy)];
            copy.remove();
            return both;
        }"""
    )
    assert ours == material


PALETTE = "form[data-site-palette]"  # Material's markup, switched by site.js
SCHEME = "getComputedStyle(document.documentElement).colorScheme"


def test_light_and_dark_toggle(page, base_url):
    """site.js switches the palette on a click, as Material's component did: the colors on
    <body>, the other button shown, the page's own color scheme, and the choice remembered."""
    page.emulate_media(color_scheme="light")
    page.goto(f"{base_url}/en/")
    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    page.locator(f"{PALETTE} label:visible").click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    expect(page.locator(f"{PALETTE} label:visible")).to_have_attribute(
        "title", "Switch to light mode"
    )
    assert page.evaluate(SCHEME) == "dark"
    page.goto(f"{base_url}/en/tls/")  # the choice is remembered on every page
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    page.locator(f"{PALETTE} label:visible").click()
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    page.reload()
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    assert page.evaluate(SCHEME) == "normal"  # the browser's default: light
    # By keyboard: Enter on the focused switch takes the other palette, as in Material.
    page.locator(f"{PALETTE} input").first.focus()
    page.keyboard.press("Enter")
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    page.keyboard.press("Enter")
    expect(body).to_have_attribute("data-md-color-scheme", "default")


def test_the_first_visit_takes_the_systems_scheme(page, base_url):
    """Without a choice yet, the palette whose media query matches: a dark system gets the
    dark palette and the button that switches to light."""
    page.emulate_media(color_scheme="dark")
    page.goto(f"{base_url}/")
    expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "slate")
    expect(page.locator(f"{PALETTE} label:visible")).to_have_attribute(
        "title", "밝은 화면으로 바꾸기"
    )
    assert page.evaluate(SCHEME) == "dark"


def test_materials_palette_component_is_not_mounted(page, base_url):
    """Its mount restyled the whole page three times on every load (overrides/main.html): it
    adds a color-scheme <meta> and toggles data-md-color-switching on <body>. Neither happens,
    and <html> has its "js" class before Material's script runs."""
    page.add_init_script(
        """new MutationObserver((changes) => {
            for (const c of changes) if (c.attributeName === "data-md-color-switching")
                (window.switching = window.switching || []).push(c.attributeName);
        }).observe(document, {attributes: true, subtree: true});"""
    )
    page.goto(f"{base_url}/en/tls/")
    material_has_mounted(page)
    assert page.locator('meta[name="color-scheme"]').count() == 0
    assert page.evaluate("window.switching") is None
    html = page.evaluate("document.documentElement.outerHTML")
    assert html.index('classList.replace("no-js", "js")') < html.index("</head>")


@pytest.mark.parametrize("start", ["/experiment/", "/en/experiment/"])
def test_notebook_page_shows_its_plot(page, base_url, start):
    page.goto(base_url + start)
    plot = page.locator('article img[src="experiment-1.svg"]')
    plot.scroll_into_view_if_needed()  # it loads lazily
    expect(plot).to_be_visible()
    page.wait_for_function("img => img.complete", arg=plot.element_handle())
    assert plot.evaluate("img => img.complete && img.naturalWidth > 300")
