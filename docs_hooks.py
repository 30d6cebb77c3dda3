"""MkDocs hook: let mkdocs-static-i18n treat notebooks as pages.

mkdocs-static-i18n only localizes documentation pages, and MkDocs counts only Markdown files as
such, so a notebook was copied as a raw file (its JSON served as the page) and the English copy
went missing (mkdocs-static-i18n issue 198). Counting `.ipynb` as a page source fixes both;
mkdocs-jupyter then renders each language's notebook.
"""

import base64
import re
from pathlib import Path

import mkdocs.utils
from bs4 import BeautifulSoup  # installed with nbconvert, which mkdocs-jupyter uses
from bs4.formatter import HTMLFormatter

if ".ipynb" not in mkdocs.utils.markdown_extensions:
    mkdocs.utils.markdown_extensions = (*mkdocs.utils.markdown_extensions, ".ipynb")


class KeepAttributeOrder(HTMLFormatter):
    """Write attributes in their original order (BeautifulSoup sorts them by default)."""

    def attributes(self, tag):
        return tag.attrs.items()


def on_post_page(output, page, config):
    """Serve a notebook page as a plain Material page.

    mkdocs-jupyter inlines JupyterLab's whole stylesheet (about 570 KB), a Mermaid loader that
    would fetch its script from a CDN, MathJax setup, prompts and a second copy button. These
    notebooks have no diagrams or formulas, so keep the cells and give them Material's own code
    block markup: Material then styles them and adds its copy button, as on every other page.
    """
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    soup = BeautifulSoup(output, "html.parser")
    article = soup.find("article")
    for tag in soup.find_all("script"):
        text = tag.string or ""
        if tag.get("src") == "" or any(
            word in text
            for word in ("jp-Mermaid", "MathJax", "ClipboardCopyElement", "clipboard-copy")
        ):
            tag.decompose()
    for tag in article.select(
        "style, .zeroclipboard-container, .clipboard-copy-txt, .jp-InputPrompt, .jp-OutputPrompt,"
        " .anchor-link"
    ):
        tag.decompose()
    for pre in article.select(".highlight-ipynb > pre, .jp-RenderedText > pre"):
        code = soup.new_tag("code")
        code.extend(list(pre.contents))
        pre.clear()
        pre.append(code)
        wrapper = pre.parent
        wrapper["class"] = (
            ["highlight"] if "highlight-ipynb" in wrapper["class"] else wrapper["class"]
        )
        if "jp-RenderedText" in wrapper["class"]:
            pre.wrap(soup.new_tag("div", attrs={"class": "highlight"}))
    alt = (
        "N에 따른 네 가지 방법의 총 시간 그래프"
        if config.theme["language"] == "ko"
        else "Total time against N for the four ways"
    )
    folder = Path(page.file.abs_dest_path).parent
    stem = Path(page.file.src_uri).stem
    for number, img in enumerate(article.select(".jp-RenderedImage img, .jp-RenderedSVG img"), 1):
        img["alt"] = alt
        move_to_file(img, folder, f"{stem}-{number}")
    # Unwrap JupyterLab's layers of <div class="jp-...">: without its stylesheet they only add
    # weight (and focus stops); the cells' content stays, in order.
    for div in article.select("div.jupyter-wrapper, div[class^='jp-'], div.CodeMirror"):
        div.unwrap()
    return soup.decode(formatter=KeepAttributeOrder())


def move_to_file(img, folder, name):
    """Write an inline (data: URI) image to its own file beside the page and link to it.

    The plot is the largest part of the notebook page, and base64 in the HTML neither compresses
    well nor loads lazily; as a file it does both, and the browser can cache it.
    """
    match = re.fullmatch(r"data:image/(svg\+xml|png);base64,(.*)", img.get("src", ""), re.S)
    if not match:
        return
    data = base64.b64decode(match.group(2))
    suffix = ".svg" if match.group(1) == "svg+xml" else ".png"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (name + suffix)).write_bytes(data)
    img["src"] = name + suffix
    img["loading"] = "lazy"
    if suffix == ".svg":  # width and height reserve the space before the file arrives
        box = re.search(rb'viewBox="0 0 ([\d.]+) ([\d.]+)"', data)
        if box:  # matplotlib's points, as CSS pixels (96 / 72)
            img["width"] = str(round(float(box.group(1)) * 4 / 3))
            img["height"] = str(round(float(box.group(2)) * 4 / 3))
