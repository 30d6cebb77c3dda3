"""The pages' sources (Markdown and notebooks) and the built HTML, as the page tests read them."""

import html
import html.parser
import io
import re
import tokenize
from urllib.parse import unquote, urljoin, urlsplit

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


class _Links(html.parser.HTMLParser):
    """The ids of one HTML page, and the URLs it links to or loads."""

    def __init__(self):
        super().__init__()
        self.ids, self.urls = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key) and tag in ("a", "link", "script", "img", "source", "iframe"):
                self.urls.append(attrs[key])


def broken_links(site, site_url):
    """Every link and every loaded file of the built site that does not resolve, as
    "page: url (why)": an internal URL (relative, or under `site_url`) must name a file of the
    site (a folder: its index.html) and, with a #fragment, an id on that page. Other URLs are
    external: not this check's business (tests/test_links.py lists them)."""
    pages, broken = {}, []
    for path in site.rglob("*.html"):
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = parser
    base = urlsplit(site_url)
    for path, parser in pages.items():
        here = "/" + path.relative_to(site.resolve()).as_posix()
        for url in parser.urls:
            parts = urlsplit(urljoin(base.path.rstrip("/") + here, url))
            if parts.scheme not in ("", base.scheme) or parts.netloc not in ("", base.netloc):
                continue  # external, or data:, mailto:
            if not parts.path.startswith(base.path):
                broken.append(f"{here}: {url} (outside the site)")
                continue
            target = site.resolve() / unquote(parts.path[len(base.path) :])
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{here}: {url} (no file {target.relative_to(site.resolve())})")
            elif parts.fragment and unquote(parts.fragment) not in pages[target.resolve()].ids:
                broken.append(f"{here}: {url} (no id {parts.fragment!r} there)")
    return broken
