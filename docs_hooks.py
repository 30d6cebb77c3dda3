"""MkDocs hook: let mkdocs-static-i18n treat notebooks as pages.

mkdocs-static-i18n only localizes documentation pages, and MkDocs counts only Markdown files as
such, so a notebook was copied as a raw file (its JSON served as the page) and the English copy
went missing (mkdocs-static-i18n issue 198). Counting `.ipynb` as a page source fixes both;
mkdocs-jupyter then renders each language's notebook.
"""

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
    for img in article.select(".jp-RenderedImage img, .jp-RenderedSVG img"):
        img["alt"] = alt
    return soup.decode(formatter=KeepAttributeOrder())
