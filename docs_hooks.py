"""MkDocs hooks: notebooks as plain Material pages, and a faster build.

mkdocs-jupyter renders each notebook (`.ipynb`) from the outputs stored in it (`execute: false`:
tests/test_notebook.py runs the notebooks and `pytest --update-examples` stores their outputs).
Its HTML is JupyterLab's: a 570 KB stylesheet, a copy button, MathJax and Mermaid loaders from a
CDN, prompts and layers of wrappers, headings whose ids it makes from their text (empty for a
Korean heading). `slim_notebook` turns it into the markup of every other page of this site:

- a heading takes the id of the `<a id="x"></a>` written in it (an anchor Jupyter shows
  nowhere), identical in both languages, and Material's permalink; the table of contents is
  rebuilt from those headings, so its links land on them;
- code cells and text outputs become Material's code blocks (its styles, its copy button);
- the plot moves from a data: URI to a file beside the page (`experiment-1.svg`), loaded lazily,
  its size reserved, with an alt text in the page's language;
- a link to a page's source (`server.md`, as Jupyter follows it) points to that page's URL.

mkdocs-jupyter converts each notebook twice per build (to HTML, and to Markdown for the table of
contents); its own cache does not survive mkdocs-static-i18n (the second language's build evicts
the first's entries). So the slimmed page is kept in a per-user folder of the temporary directory,
keyed by the notebook's bytes, this file, mkdocs-jupyter's version and the site's pages: an
unchanged notebook is converted once, not on every build and `mkdocs serve` rebuild.
"""

import base64
import hashlib
import json
import os
import posixpath
import re
import sys
import tempfile
import types
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import mkdocs.utils
from bs4 import BeautifulSoup, Comment  # installed with nbconvert, which mkdocs-jupyter uses
from bs4.formatter import HTMLFormatter
from mkdocs.structure.toc import get_toc

# MkDocs counts only Markdown files as pages; counting `.ipynb` too makes a notebook a page that
# mkdocs-static-i18n localizes like the others (each language's folder has its own notebook).
if ".ipynb" not in mkdocs.utils.markdown_extensions:
    mkdocs.utils.markdown_extensions = (*mkdocs.utils.markdown_extensions, ".ipynb")

PLOT_ALT = {
    "ko": "N에 따른 네 가지 방법의 총 시간 그래프",
    "en": "Total time against N for the four ways",
}
CACHE = Path(tempfile.gettempdir()) / f"mkdocs-notebook-pages-{getattr(os, 'getuid', str)()}"


def is_notebook(page):
    return page.file.src_uri.endswith(".ipynb")


def on_pre_page(page, config, files):
    """Wrap mkdocs-jupyter's render (set by its on_pre_page, which runs before the hooks)."""
    if not is_notebook(page):
        return page
    convert = page.render
    lang = "ko" if config.theme["language"] == "ko" else "en"
    pages = sorted(f"{f.src_uri} {f.url}" for f in files.documentation_pages())
    key = hashlib.sha256()
    for part in (
        Path(page.file.abs_src_path).read_bytes(),
        Path(__file__).read_bytes(),
        version("mkdocs-jupyter").encode(),
        repr((lang, page.file.src_uri, pages)).encode(),
    ):
        key.update(hashlib.sha256(part).digest())
    cached = CACHE / f"{key.hexdigest()}.json"

    def render(self, config, files):
        try:
            slim = json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            check_no_error(self.file)
            convert(config, files)
            slim = slim_notebook(self.content, self.file, files, PLOT_ALT[lang])
            slim["title"] = self.title
            CACHE.mkdir(mode=0o700, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}")
            partial.write_text(json.dumps(slim), encoding="utf-8")
            partial.replace(cached)  # whole or absent, even with two builds at once
        self.content = slim["content"]
        self.toc = get_toc(slim["toc"])
        self.title = slim["title"]
        self.notebook_files = slim["files"]

    page.render = types.MethodType(render, page)
    return page


def check_no_error(file):
    """A stored error is a failed run (the tests store only clean ones): it stops the build."""
    cells = json.loads(Path(file.abs_src_path).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                raise ValueError(f"{file.src_uri} stores an error: {output.get('ename')}")


def slim_notebook(html, file, files, alt):
    """mkdocs-jupyter's HTML for a notebook as this site's page markup: {"content": HTML,
    "toc": table-of-contents tokens, "files": {name: base64} to write beside the page}."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.select(
        "style, script, .zeroclipboard-container, .clipboard-copy-txt, .jp-InputPrompt,"
        " .jp-OutputPrompt, a.anchor-link"
    ):
        tag.decompose()
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()
    for pre in soup.select(".highlight-ipynb > pre, .jp-RenderedText > pre"):
        code = soup.new_tag("code")
        code.extend(list(pre.contents))
        pre.append(code)
        if "highlight-ipynb" in pre.parent["class"]:
            pre.parent["class"] = ["highlight"]
        else:
            pre.wrap(soup.new_tag("div", attrs={"class": "highlight"}))
    headings = []
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        anchor = heading.find("a", id=True, href=False)
        if anchor is None:
            raise ValueError(f'{file.src_uri}: heading without <a id="..."></a>: {heading}')
        heading["id"] = anchor["id"]
        anchor.decompose()
        text = heading.get_text().strip()
        heading.clear()
        heading.append(text)
        link = soup.new_tag("a", attrs={"class": "headerlink", "href": f"#{heading['id']}"})
        link["title"] = "Permanent link"
        link.string = "\N{PILCROW SIGN}"
        heading.append(link)
        headings.append({"level": int(heading.name[1]), "id": heading["id"], "name": text})
    for link in soup.find_all("a", href=True):
        link["href"] = page_link(link["href"], file, files)
    written = {}
    for img in soup.select(".jp-RenderedSVG img, .jp-RenderedImage img"):
        match = re.fullmatch(r"data:image/(svg\+xml|png);base64,(.*)", img["src"], re.S)
        if match:
            name = f"{Path(file.src_uri).stem}-{len(written) + 1}"
            name += ".svg" if match.group(1) == "svg+xml" else ".png"
            written[name] = match.group(2)
            plot_img(img, name, alt, base64.b64decode(match.group(2)))
    # JupyterLab's layers of <div class="jp-...">: without its stylesheet they only add weight
    # (and focus stops); the cells' content stays, in order.
    for div in soup.select("div.jupyter-wrapper, div[class^='jp-'], div.CodeMirror"):
        div.unwrap()
    soup.smooth()  # the blank lines the wrappers stood on: one line break between blocks
    for text in soup.find_all(string=True, recursive=False):
        if not text.strip():
            text.replace_with("\n")
    content = soup.decode(formatter=KeepAttributeOrder()).strip() + "\n"
    return {"content": content, "toc": nested(headings), "files": written}


def page_link(href, file, files):
    """A relative link to a page's source (`server.md#x`) as that page's URL (`../server/#x`)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
        return href
    target = posixpath.normpath(posixpath.join(posixpath.dirname(file.src_uri), parts.path))
    found = files.get_file_from_path(target)
    if found is None:
        raise ValueError(f"{file.src_uri}: link to a missing page: {href}")
    return found.url_relative_to(file) + (f"#{parts.fragment}" if parts.fragment else "")


def plot_img(img, name, alt, data):
    """Point an <img> at its file; width and height (for an SVG, from its viewBox: matplotlib's
    points as CSS pixels, 96 / 72) reserve the space before the lazy file arrives."""
    img.attrs = {"alt": alt, "src": name, "loading": "lazy"}
    box = re.search(rb'viewBox="0 0 ([\d.]+) ([\d.]+)"', data)
    if box:
        img["width"] = str(round(float(box.group(1)) * 4 / 3))
        img["height"] = str(round(float(box.group(2)) * 4 / 3))


def nested(headings):
    """Table-of-contents tokens (MkDocs' `get_toc`) from headings in document order."""
    root = {"level": 0, "children": []}
    stack = [root]
    for heading in headings:
        while stack[-1]["level"] >= heading["level"]:
            stack.pop()
        token = {**heading, "children": []}
        stack[-1]["children"].append(token)
        stack.append(token)
    return root["children"]


class KeepAttributeOrder(HTMLFormatter):
    """Write attributes in their original order (BeautifulSoup sorts them by default)."""

    def attributes(self, tag):
        return tag.attrs.items()


def on_env(env, config, files):
    """Keep the theme's compiled templates between builds (and between the two languages).

    Compiling Material's templates is a quarter of a build: each language's build and each
    `mkdocs serve` rebuild makes a new Jinja environment and compiles them all again. Jinja's
    bytecode cache (a private folder in the temporary directory) checks each template's source
    against the cached code, so an edited template is compiled afresh.
    """
    env.bytecode_cache = jinja2.FileSystemBytecodeCache()
    return env


def on_config(config):
    """Highlight each distinct code block once per process, not once per page and language.

    Every snippet is shown in both languages, and `mkdocs serve` rebuilds every page on each
    edit: Pygments ran about 70 times for some 35 distinct blocks on every (re)build. The cache
    lives on the pymdownx.highlight module, which `mkdocs serve` keeps loaded between rebuilds
    (this hook file is loaded afresh each time). The key is the highlighter's settings and all
    the arguments (not the page's Markdown instance, which only a title in "html" mode uses;
    those are not cached), so a changed block, language or option is highlighted anew.
    """
    import pymdownx.highlight as highlight

    if not hasattr(highlight, "site_cache"):
        highlight.site_cache = {}
        plain = highlight.Highlight.highlight

        def cached(self, *args, **kwargs):
            if self.title_mode == "html":  # the title goes to this page's Markdown stash
                return plain(self, *args, **kwargs)
            settings = sorted((k, v) for k, v in vars(self).items() if k != "md")
            key = repr((settings, args, sorted(kwargs.items())))
            if key not in highlight.site_cache:
                if len(highlight.site_cache) > 5000:  # a long serve session: start again
                    highlight.site_cache.clear()
                highlight.site_cache[key] = plain(self, *args, **kwargs)
            return highlight.site_cache[key]

        highlight.Highlight.highlight = cached
    cache_installed_template_listings()
    return config


def cache_installed_template_listings():
    """List an installed theme's files once per process.

    Every build lists every file of every theme folder, twice per language (MkDocs looks for
    static files, search_hooks.py for lunr's languages); Material's folder holds some 14,000
    icons, a third of a second per `mkdocs serve` rebuild. A folder inside the Python
    installation does not change while MkDocs runs, so its listing is kept (on the jinja2
    module, which outlives this hook file); the project's own folders (overrides/) are listed
    afresh every time, so a new template is seen.
    """
    import jinja2.loaders as loaders

    if hasattr(loaders, "site_listings"):
        return
    loaders.site_listings = {}
    plain = loaders.FileSystemLoader.list_templates
    installed = (Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve())

    def listing(self, path):
        if not any(Path(path).resolve().is_relative_to(root) for root in installed):
            return plain(loaders.FileSystemLoader(path, followlinks=self.followlinks))
        key = (path, self.followlinks)
        if key not in loaders.site_listings:
            single = loaders.FileSystemLoader(path, followlinks=self.followlinks)
            loaders.site_listings[key] = plain(single)
        return loaders.site_listings[key]

    def cached(self):
        return sorted({name for path in self.searchpath for name in listing(self, path)})

    loaders.FileSystemLoader.list_templates = cached


def on_post_page(output, page, config):
    """Write a notebook's plot files beside its page (mkdocs-jupyter copies the .ipynb there)."""
    if is_notebook(page):
        folder = Path(page.file.abs_dest_path).parent
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in getattr(page, "notebook_files", {}).items():
            (folder / name).write_bytes(base64.b64decode(data))
    return output
