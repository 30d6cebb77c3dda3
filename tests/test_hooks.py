"""The MkDocs hooks in hooks/, one transformation at a time.

notebook_markup's transformations run on tests/samples/notebook.mkdocs-jupyter.html: the real
output of mkdocs-jupyter for tests/samples/notebook.ipynb (`mkdocs_jupyter.convert.nb2html(path,
theme="")`, only the <style> bodies cut), which a test compares with what the installed
mkdocs-jupyter writes (`pytest --update-examples` saves it anew): a change in its markup fails
here, not on the published site. Each test checks what one
function guarantees, so removing or breaking that function fails its test.
"""

import base64
import re

import notebook_markup as markup
import pytest
from bs4 import BeautifulSoup
from mkdocs.structure.files import File, Files

from support.paths import ROOT

SAMPLE = ROOT / "tests" / "samples" / "notebook.mkdocs-jupyter.html"


def sample():
    return BeautifulSoup(SAMPLE.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(autouse=True)
def notebooks_are_pages(monkeypatch):
    """What notebook_pages.on_config does for a build: `.ipynb` files count as pages."""
    import mkdocs.utils
    import notebook_pages

    monkeypatch.setattr(mkdocs.utils, "markdown_extensions", mkdocs.utils.markdown_extensions)
    notebook_pages.on_config({})


def test_notebooks_count_as_pages():
    page = File("nb.ipynb", "/docs", "/site", use_directory_urls=True)
    assert page.is_documentation_page() and page.url == "nb/"


def page_and_files():
    page = File("nb.ipynb", "/docs", "/site", use_directory_urls=True)
    return page, Files([page, File("server.md", "/docs", "/site", use_directory_urls=True)])


def mkdocs_jupyters_output():
    """What the installed mkdocs-jupyter writes for the sample notebook, its stylesheets cut
    (570 KB that no transformation reads) to a note of their length."""
    from mkdocs_jupyter.convert import nb2html

    html = nb2html(str(SAMPLE.with_name("notebook.ipynb")), theme="")

    def cut(m):
        note = f"/* {len(m[2])} characters of JupyterLab's stylesheet, cut from this sample */"
        return f"{m[1]}\n{note}\n{m[3]}"

    return re.sub(r"(<style[^>]*>)(.*?)(</style>)", cut, html, flags=re.S)


def test_the_sample_is_what_mkdocs_jupyter_writes_now(request):
    """An upgrade of mkdocs-jupyter that changes its markup fails here: run
    `pytest --update-examples` to save the new output, then see which transformation breaks."""
    if request.config.getoption("update_examples"):
        SAMPLE.write_text(mkdocs_jupyters_output(), encoding="utf-8")
    assert SAMPLE.read_text(encoding="utf-8") == mkdocs_jupyters_output()


def test_the_sample_has_what_the_transformations_remove():
    """The precondition of every test below: mkdocs-jupyter's markup, as it is."""
    html = SAMPLE.read_text(encoding="utf-8")
    for what in (
        "<script",
        "<style",
        "clipboard-copy",
        "jp-InputPrompt",
        "anchor-link",
        "data:image/svg+xml;base64,",
        'href="server.md#options"',
        "<!--",
        "jp-Cell",
    ):
        assert what in html, what  # fmt: skip


def test_drop_jupyter_chrome():
    soup = sample()
    markup.drop_jupyter_chrome(soup)
    html = str(soup)
    for gone in (
        "<script",
        "<style",
        "clipboard-copy",
        "jp-InputPrompt",
        "jp-OutputPrompt",
        "anchor-link",
        "<!--",
    ):
        assert gone not in html, gone  # fmt: skip
    assert "jp-Cell" in html and "Markdown" in soup.get_text()  # the cells stay


def test_code_blocks_become_materials():
    soup = sample()
    markup.code_blocks(soup)
    blocks = soup.select("div.highlight > pre > code")
    assert [b.get_text() for b in blocks] == ["1 / 0\n", "stored\n", "Markdown(table)\n",
                                               "plt.show()\n"]  # fmt: skip
    assert not soup.select(".highlight-ipynb")


def test_headings_take_their_explicit_ids():
    soup = sample()
    page, _ = page_and_files()
    markup.drop_jupyter_chrome(soup)  # first, as slim_notebook does: Jupyter's "¶" links go
    headings = markup.heading_ids(soup, page)
    assert headings == [
        {"level": 1, "id": "title", "name": "Title"},
        {"level": 2, "id": "a-table", "name": "A table"},
        {"level": 3, "id": "the-plot", "name": "그래프"},
    ]
    h3 = soup.find("h3")
    assert str(h3) == (
        '<h3 id="the-plot">그래프<a class="headerlink" href="#the-plot" title="Permanent link">'
        "¶</a></h3>"
    )


def test_a_heading_without_its_id_stops_the_build():
    page, files = page_and_files()
    soup = BeautifulSoup('<h2 id="n">N을 바꿔 가며</h2>', "html.parser")
    with pytest.raises(ValueError, match='nb.ipynb: heading without <a id="..."></a>'):
        markup.heading_ids(soup, page)


def test_page_links_become_urls():
    soup = sample()
    page, files = page_and_files()
    markup.page_links(soup, page, files)
    assert soup.find("a", string="the server page")["href"] == "../server/#options"
    broken = BeautifulSoup('<a href="gone.md">x</a>', "html.parser")
    with pytest.raises(ValueError, match="nb.ipynb: link to a missing page: gone.md"):
        markup.page_links(broken, page, files)


def test_plots_become_lazy_files_with_their_size_and_alt():
    soup = sample()
    written = markup.plots_as_files(soup, "nb", "the alt text")
    assert list(written) == ["nb-1.svg"]
    assert base64.b64decode(written["nb-1.svg"]).startswith(b'<?xml version="1.0"')
    img = soup.find("img")
    assert img.attrs == {"alt": "the alt text", "src": "nb-1.svg", "loading": "lazy",
                         "width": "40", "height": "20"}  # fmt: skip
    assert "data:image" not in str(soup.find(class_="jp-RenderedSVG"))


def test_svg_size_is_its_viewbox_in_css_pixels():
    assert markup.svg_size(b'<svg viewBox="0 0 432 288">') == {"width": "576", "height": "384"}
    assert markup.svg_size(b"\x89PNG") == {}


def test_unwrap_layers_keeps_the_content_in_order():
    soup = sample()
    text = soup.get_text()
    markup.unwrap_layers(soup)
    assert not soup.select("div[class^='jp-'], div.jupyter-wrapper")
    assert re.sub(r"\s+", "", soup.get_text()) == re.sub(r"\s+", "", text)


def test_nested_toc():
    flat = [{"level": 1, "id": "a", "name": "A"}, {"level": 2, "id": "b", "name": "B"},
            {"level": 3, "id": "c", "name": "C"}, {"level": 2, "id": "d", "name": "D"}]  # fmt: skip
    toc = markup.nested(flat)
    assert [t["id"] for t in toc] == ["a"]
    assert [t["id"] for t in toc[0]["children"]] == ["b", "d"]
    assert [t["id"] for t in toc[0]["children"][0]["children"]] == ["c"]


def test_serialize_keeps_attribute_order():
    soup = BeautifulSoup('<img src="x" alt="y">', "html.parser")
    assert markup.serialize(soup) == '<img src="x" alt="y"/>\n'


def test_slim_notebook_is_the_transformations_in_order():
    """The whole: Material markup, the explicit ids, the toc, the plot as a file, nothing of
    JupyterLab."""
    page, files = page_and_files()
    html = SAMPLE.read_text(encoding="utf-8")
    slim = markup.slim_notebook(html, page, files, "alt")
    code = '<div class="highlight"><pre><code><span></span>'
    assert slim["content"] == "\n".join(
        [
            '<h1 id="title">Title<a class="headerlink" href="#title" title="Permanent link">'
            '¶</a></h1><p>Read <a href="../server/#options">the server page</a> first.</p>',
            f'{code}<span class="mi">1</span> <span class="o">/</span> <span class="mi">0</span>',
            "</code></pre></div>",
            '<div class="highlight"><pre><code>stored',
            "</code></pre></div>",
            '<h2 id="a-table">A table<a class="headerlink" href="#a-table" title="Permanent link">'
            "¶</a></h2>",
            f'{code}<span class="n">Markdown</span><span class="p">(</span><span class="n">table'
            '</span><span class="p">)</span>',
            "</code></pre></div>",
            "<table>",
            "<thead>",
            "<tr>",
            '<th style="text-align:right">N</th>',
            '<th style="text-align:right">s</th>',
            "</tr>",
            "</thead>",
            "<tbody>",
            "<tr>",
            '<td style="text-align:right">1</td>',
            '<td style="text-align:right">0.10</td>',
            "</tr>",
            "</tbody>",
            "</table>",
            '<h3 id="the-plot">그래프<a class="headerlink" href="#the-plot" title="Permanent link">'
            "¶</a></h3>",
            f'{code}<span class="n">plt</span><span class="o">.</span><span class="n">show</span>'
            '<span class="p">()</span>',
            "</code></pre></div>",
            '<img alt="alt" src="nb-1.svg" loading="lazy" width="40" height="20"/>',
            "",
        ]
    )
    assert [t["id"] for t in slim["toc"]] == ["title"]
    assert set(slim) == {"content", "toc", "files"}


# build_cache: each cache gives what the uncached code gives.


def test_highlight_cache_returns_pygments_own_result(monkeypatch):
    import build_cache
    import pymdownx.highlight as highlight

    monkeypatch.setattr(highlight.Highlight, "highlight", highlight.Highlight.highlight)
    if hasattr(highlight, "site_cache"):
        monkeypatch.delattr(highlight, "site_cache")
    plain = highlight.Highlight.highlight
    calls = []

    def counted(self, *args, **kwargs):
        calls.append(args[0])
        return plain(self, *args, **kwargs)

    monkeypatch.setattr(highlight.Highlight, "highlight", counted)
    import markdown

    def block(src):
        return highlight.Highlight(md=markdown.Markdown()).highlight(src, "python")

    expected = block("x = 1\n")
    calls.clear()
    monkeypatch.setattr(build_cache, "cache_installed_template_listings", lambda: None)
    monkeypatch.setattr(build_cache, "cache_search_entries", lambda: None)
    monkeypatch.setattr(build_cache, "cache_rendered_pages", lambda: None)
    build_cache.on_config({})
    first, second, other = block("x = 1\n"), block("x = 1\n"), block("y = 2\n")
    assert first == second == expected and other != expected
    assert calls == ["x = 1\n", "y = 2\n"]  # the same block once; another block anew


def test_template_listing_cache_lists_what_jinja_lists(monkeypatch, tmp_path):
    import build_cache
    import jinja2.loaders as loaders
    import material

    monkeypatch.setattr(loaders.FileSystemLoader, "list_templates",
                        loaders.FileSystemLoader.list_templates)  # fmt: skip
    if hasattr(loaders, "site_listings"):
        monkeypatch.delattr(loaders, "site_listings")
    theme = str(ROOT / "overrides"), material.__path__[0] + "/templates"
    expected = loaders.FileSystemLoader(list(theme)).list_templates()
    build_cache.cache_installed_template_listings()
    assert loaders.FileSystemLoader(list(theme)).list_templates() == expected
    assert len(loaders.site_listings) == 1  # the installed theme's folder, kept
    new = tmp_path / "new.html"
    new.write_text("x")
    assert "new.html" in loaders.FileSystemLoader([str(tmp_path)]).list_templates()


def test_compiled_templates_are_kept_between_builds(tmp_path):
    """on_env: Jinja's bytecode cache, which recompiles a template whose source changed."""
    import build_cache
    import jinja2

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.html").write_text("one")
    (tmp_path / "cache").mkdir()
    cache = jinja2.FileSystemBytecodeCache(str(tmp_path / "cache"))

    def render():
        env = build_cache.on_env(
            jinja2.Environment(loader=jinja2.FileSystemLoader(folder)), {}, None
        )
        assert isinstance(env.bytecode_cache, jinja2.FileSystemBytecodeCache)
        env.bytecode_cache = cache  # the same cache as the hook's, in a private folder
        return env.get_template("t.html").render()

    assert render() == "one" and len(list((tmp_path / "cache").iterdir())) == 1
    (folder / "t.html").write_text("two")
    assert render() == "two"


def test_search_entries_cache_gives_what_materials_parser_gives(monkeypatch, tmp_path):
    """cache_search_entries: the same entries as Material's own parse; an unchanged page is not
    parsed again (in memory or from the disk cache); a changed page is."""
    from types import SimpleNamespace

    import build_cache
    from material.plugins.search import plugin as search
    from mkdocs.structure.toc import get_toc

    monkeypatch.setattr(search.SearchIndex, "add_entry_from_context",
                        search.SearchIndex.add_entry_from_context)  # fmt: skip
    if hasattr(search.SearchIndex, "site_cache"):
        monkeypatch.delattr(search.SearchIndex, "site_cache")
    monkeypatch.setattr(build_cache, "SEARCH_CACHE", tmp_path / "entries")
    parsed = []
    feed = search.Parser.feed
    monkeypatch.setattr(
        search.Parser, "feed", lambda self, data: parsed.append(1) or feed(self, data)
    )

    def page(text):
        toc = get_toc([{"level": 1, "id": "a", "name": "A", "children": [
            {"level": 2, "id": "b", "name": "B", "children": []}]}])  # fmt: skip
        html = f'<h1 id="a">A</h1><p>{text}</p><h2 id="b">B</h2><p>more</p>'
        return SimpleNamespace(url="p/", title="A", meta={}, toc=toc, content=html)

    plain = search.SearchIndex()
    plain.add_entry_from_context(page("first"))
    build_cache.cache_search_entries()
    cached = search.SearchIndex()
    for _ in range(2):
        cached.add_entry_from_context(page("first"))
    assert cached.entries == plain.entries * 2 and len(parsed) == 2  # plain's, then one more
    search.SearchIndex.site_cache.clear()  # a new process: the disk cache answers
    again = search.SearchIndex()
    again.add_entry_from_context(page("first"))
    assert again.entries == plain.entries and len(parsed) == 2
    again.add_entry_from_context(page("changed"))
    assert len(parsed) == 3 and again.entries[-2]["text"] == "<p>changed</p>"


def test_rendered_pages_cache_gives_what_mkdocs_gives(monkeypatch, tmp_path, caplog):
    """cache_rendered_pages: the same HTML, table of contents, title and anchors as MkDocs' own
    conversion; an unchanged page is not converted again (in memory or from the disk cache); a
    changed included file is; a page whose conversion logs a warning is converted every time."""
    import logging

    import build_cache
    import markdown
    import pymdownx.snippets as snippets
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files
    from mkdocs.structure.pages import Page

    monkeypatch.setattr(Page, "render", Page.render)
    preprocessor = snippets.SnippetPreprocessor
    monkeypatch.setattr(preprocessor, "get_snippet_path", preprocessor.get_snippet_path)
    if hasattr(Page, "site_cache"):
        monkeypatch.delattr(Page, "site_cache")
    monkeypatch.setattr(build_cache, "PAGE_CACHE", tmp_path / "pages")
    converted = []
    convert = markdown.Markdown.convert
    monkeypatch.setattr(
        markdown.Markdown, "convert", lambda self, text: converted.append(1) or convert(self, text)
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "part.txt").write_text("first part\n")
    (tmp_path / "docs" / "index.md").write_text(
        '# Title { #top }\n\n## Part { #part }\n\n--8<-- "part.txt"\n\n[more](other.md#end)\n'
    )
    (tmp_path / "docs" / "other.md").write_text("# Other\n\n## End { #end }\n\n[gone](gone.md)\n")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nmarkdown_extensions:\n  - attr_list\n  - toc\n"
        f"  - pymdownx.snippets:\n      base_path: ['{tmp_path}']\n      check_paths: true\n"
    )
    config = load_config(config_file=str(tmp_path / "mkdocs.yml"))
    files = get_files(config)

    def render(name):
        page = Page(None, files.get_file_from_path(name), config)
        page.read_source(config)
        page.render(config, files)
        links = {to.src_uri: v for to, v in (page.links_to_anchors or {}).items()}
        toc = build_cache.toc_tokens(page.toc)
        return page.content, toc, page._title_from_render, page.present_anchor_ids, links

    plain = render("index.md")
    assert "first part" in plain[0] and plain[4] == {"other.md": {"end": "other.md#end"}}
    build_cache.cache_rendered_pages()
    assert render("index.md") == plain and render("index.md") == plain
    assert len(converted) == 2  # plain's, then one more
    Page.site_cache.clear()  # a new process: the disk cache answers
    assert render("index.md") == plain and len(converted) == 2
    (tmp_path / "part.txt").write_text("second part\n")
    assert "second part" in render("index.md")[0] and len(converted) == 3
    caplog.clear()
    render("other.md")
    render("other.md")
    assert len(converted) == 5
    # Quiet (`-q`): the warning is not even made, so nothing is kept either.
    mkdocs_log = logging.getLogger("mkdocs")
    level = mkdocs_log.level
    mkdocs_log.setLevel(logging.ERROR)
    try:
        (tmp_path / "part.txt").write_text("third part\n")
        render("index.md")
        render("index.md")
    finally:
        mkdocs_log.setLevel(level)
    assert len(converted) == 7
    assert [r.getMessage() for r in caplog.records].count(
        "Doc file 'other.md' contains a link 'gone.md', but the target is not found among "
        "documentation files."
    ) == 2


def test_a_cache_folder_others_can_use_is_not_used(tmp_path):
    """private_folder: the caches' folders are in the shared temporary directory, so a folder
    another user could write to, or a link, is refused and nothing is read from it."""

    import build_cache

    own = tmp_path / "own"
    build_cache.store_json(own, "k", {"a": 1})
    assert build_cache.load_json(own, "k") == {"a": 1}
    assert own.stat().st_mode & 0o777 == 0o700
    own.chmod(0o777)  # as if another user had made it for us
    assert build_cache.load_json(own, "k") is None
    own.chmod(0o700)
    link = tmp_path / "link"
    link.symlink_to(own)
    assert build_cache.load_json(link, "k") is None
    assert build_cache.load_json(own, "k") == {"a": 1}
