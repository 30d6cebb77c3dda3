"""mkdocs-jupyter's HTML for a notebook, as the markup of every other page of this site.

mkdocs-jupyter writes JupyterLab's markup: a 570 KB stylesheet, a copy button, MathJax and
Mermaid loaders from a CDN, prompts and layers of wrappers, headings whose ids it makes from
their text (empty for a Korean heading). Each function below is one transformation, tested on
a saved sample of mkdocs-jupyter's real output (tests/test_hooks.py); `slim_notebook` applies
them in order. Pure functions of the HTML: no MkDocs state, so each is tested alone.
"""

import base64
import posixpath
import re
from pathlib import Path
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Comment  # installed with nbconvert, which mkdocs-jupyter uses
from bs4.formatter import HTMLFormatter

# What JupyterLab adds that a Material page has its own version of, or does not need: its
# stylesheet and scripts (MathJax, Mermaid), its copy button, the In/Out prompts, and the
# "¶" links it makes from each heading's text.
JUPYTER_CHROME = (
    "style, script, .zeroclipboard-container, .clipboard-copy-txt, .jp-InputPrompt,"
    " .jp-OutputPrompt, a.anchor-link"
)


def slim_notebook(html, file, files, alt):
    """{"content": HTML, "toc": table-of-contents tokens, "files": {name: base64} to write
    beside the page}, from mkdocs-jupyter's HTML for `file`."""
    soup = BeautifulSoup(html, "html.parser")
    drop_jupyter_chrome(soup)
    code_blocks(soup)
    headings = heading_ids(soup, file)
    page_links(soup, file, files)
    written = plots_as_files(soup, Path(file.src_uri).stem, alt)
    unwrap_layers(soup)
    return {"content": serialize(soup), "toc": nested(headings), "files": written}


def drop_jupyter_chrome(soup):
    """Remove JUPYTER_CHROME and HTML comments."""
    for tag in soup.select(JUPYTER_CHROME):
        tag.decompose()
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()


def code_blocks(soup):
    """Code cells and text outputs as Material's code blocks (`div.highlight > pre > code`), so
    they get its styles and its copy button."""
    for pre in soup.select(".highlight-ipynb > pre, .jp-RenderedText > pre"):
        code = soup.new_tag("code")
        code.extend(list(pre.contents))
        pre.append(code)
        if "highlight-ipynb" in pre.parent["class"]:
            pre.parent["class"] = ["highlight"]
        else:
            pre.wrap(soup.new_tag("div", attrs={"class": "highlight"}))


def heading_ids(soup, file):
    """Each heading takes the id of the `<a id="x"></a>` written in it (the same in both
    languages; Jupyter shows it nowhere) and Material's permalink; returns the headings in
    document order. A heading without one stops the build: its id would depend on its text."""
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
    return headings


def page_links(soup, file, files):
    """A relative link to a page's source (`server.md#x`, which Jupyter follows) as that page's
    URL (`../server/#x`); a link to a missing page stops the build."""
    for link in soup.find_all("a", href=True):
        parts = urlsplit(link["href"])
        if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(file.src_uri), parts.path))
        found = files.get_file_from_path(target)
        if found is None:
            raise ValueError(f"{file.src_uri}: link to a missing page: {link['href']}")
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        link["href"] = found.url_relative_to(file) + fragment


def plots_as_files(soup, stem, alt):
    """Each plot moves from a data: URI to a file beside the page (`<stem>-1.svg`), loaded
    lazily, its size reserved, with the alt text of the page's language; returns
    {file name: base64 data} for the hook to write."""
    written = {}
    for img in soup.select(".jp-RenderedSVG img, .jp-RenderedImage img"):
        match = re.fullmatch(r"data:image/(svg\+xml|png);base64,(.*)", img["src"], re.S)
        if match:
            name = f"{stem}-{len(written) + 1}"
            name += ".svg" if match.group(1) == "svg+xml" else ".png"
            written[name] = match.group(2)
            img.attrs = {"alt": alt, "src": name, "loading": "lazy"}
            img.attrs.update(svg_size(base64.b64decode(match.group(2))))
    return written


def svg_size(data):
    """width and height from an SVG's viewBox (matplotlib's points as CSS pixels, 96 / 72), so
    the space is reserved before the lazy file arrives; nothing for another image."""
    box = re.search(rb'viewBox="0 0 ([\d.]+) ([\d.]+)"', data)
    if not box:
        return {}
    return {"width": str(round(float(box[1]) * 4 / 3)), "height": str(round(float(box[2]) * 4 / 3))}


def unwrap_layers(soup):
    """JupyterLab's layers of `<div class="jp-...">`: without its stylesheet they only add
    weight (and focus stops); the cells' content stays, in order, one line break between
    blocks."""
    for div in soup.select("div.jupyter-wrapper, div[class^='jp-'], div.CodeMirror"):
        div.unwrap()
    soup.smooth()
    for text in soup.find_all(string=True, recursive=False):
        if not text.strip():
            text.replace_with("\n")


def serialize(soup):
    return soup.decode(formatter=KeepAttributeOrder()).strip() + "\n"


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
