"""The pages' sources (Markdown and notebooks) and the built HTML, as the page tests read them."""

import html
import io
import re
import tokenize

from support.paths import DOCS

FENCE = re.compile(
    r"^(?P<indent> *)(?P<fence>```|~~~)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)\s*$",
    re.M | re.S,
)


INCLUDE = re.compile(r'^\s*--8<-- "(?P<path>[^"]+)"\s*$', re.M)


HEADING = re.compile(r"^(#{1,6}) (?P<text>.*)$", re.M)


ANCHOR = re.compile(r"\{ ?#(?P<id>[a-z0-9-]+) ?\}\s*$")


def pages(lang):
    """Every page source of one language: Markdown pages and notebooks."""
    found = [*(DOCS / lang).rglob("*.md"), *(DOCS / lang).rglob("*.ipynb")]
    return sorted(p.relative_to(DOCS / lang).as_posix() for p in found)


def read(lang, page):
    return (DOCS / lang / page).read_text(encoding="utf-8")


def includes(text):
    return INCLUDE.findall(text)


def page_html(site, lang, page):
    return (site / url_of(lang, page).lstrip("/") / "index.html").read_text(encoding="utf-8")


def text_of(markup):
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def url_of(lang, page):
    stem = page.removesuffix(".md").removesuffix(".ipynb").removesuffix("index")
    return ("/" if lang == "ko" else "/en/") + (f"{stem}/" if stem and stem[-1] != "/" else stem)


def comments(source):
    """The comments of one code cell (IPython magics and shell lines left out)."""
    lines = source.splitlines()
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
    tokens = tokenize.generate_tokens(io.StringIO(code + "\n").readline)
    return [t.string.lstrip("# ") for t in tokens if t.type == tokenize.COMMENT]
