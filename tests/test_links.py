"""Every internal link, loaded file and #anchor of both languages resolves, on the built HTML
(navigation, the language switch, notebooks and the 404 page included); external links are
listed, never fetched. (Links between Markdown pages are also checked by MkDocs itself while
building: `validation` in mkdocs.yml, an error under `strict`.)"""

import re

from support.pages import broken_links
from support.site import SITE_URL


def test_internal_links_and_anchors_resolve(site):
    assert broken_links(site, SITE_URL) == []


def test_the_check_finds_a_missing_page_file_and_anchor(tmp_path):
    """The proof that the check above can fail."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text(
        '<h2 id="here">x</h2><a href="#here">ok</a><a href="#gone">1</a>'
        '<a href="../b/">2</a><img src="../a/plot.svg"><a href="/a/#here">ok</a>'
        '<a href="http://127.0.0.1:8000/a/#there">3</a><a href="https://example.org/">ext</a>'
    )
    assert broken_links(tmp_path, "http://127.0.0.1:8000/") == [
        "/a/index.html: #gone (no id 'gone' there)",
        "/a/index.html: ../b/ (no file b)",
        "/a/index.html: ../a/plot.svg (no file a/plot.svg)",
        "/a/index.html: http://127.0.0.1:8000/a/#there (no id 'there' there)",
    ]


def test_external_links_are_listed_not_fetched(site):
    external = set()
    for page in site.rglob("*.html"):
        external |= set(re.findall(r'<a [^>]*href="(https?://[^"]+)"', page.read_text()))
    external = {url for url in external if not url.startswith("http://127.0.0.1:8000/")}
    print("\nExternal links (not fetched):\n  " + "\n  ".join(sorted(external)))
    assert external >= {  # the sources the pages cite for what cannot run here (see README)
        "https://docs.python.org/3/library/socket.html#socket.socket.sendall",
        "https://docs.python.org/3/library/socket.html#timeouts-and-the-accept-method",
        "https://github.com/apple-oss-distributions/xnu/blob/main/bsd/sys/errno.h",
        "https://github.com/curl/curl/issues/14144",
        "https://github.com/python/cpython/blob/3.13/Lib/asyncio/trsock.py",
        "https://github.com/python/cpython/blob/3.13/Lib/asyncio/unix_events.py",
        "https://github.com/python/cpython/blob/3.13/Lib/asyncio/windows_events.py",
        "https://github.com/python/cpython/blob/3.13/Lib/socket.py",
        "https://github.com/python/cpython/blob/3.13/Modules/errnomodule.c",
        "https://github.com/python/cpython/blob/3.13/Objects/exceptions.c",
        "https://learn.microsoft.com/en-us/cpp/c-runtime-library/errno-constants",
        "https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-connect",
        "https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-listen",
        "https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-send",
        "https://learn.microsoft.com/en-us/windows/win32/winsock/windows-sockets-error-codes-2",
        "https://man.freebsd.org/cgi/man.cgi?query=listen&amp;sektion=2",
        "https://man7.org/linux/man-pages/man2/listen.2.html",
        "https://support.microsoft.com/en-us/help/175523/info-winsock-tcp-connection-performance-to-unused-ports",
    }
