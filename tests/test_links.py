"""Every internal link and #anchor of both languages resolves, checked on the served HTML by
LinkChecker; external links are listed, never fetched."""

import re
import subprocess
import sys

from support.paths import ROOT


def test_internal_links_and_anchors_resolve(site, base_url, tmp_path):
    config = tmp_path / "linkcheckerrc"
    config.write_text("[checking]\nthreads=4\nmaxrequestspersecond=1000\n[AnchorCheck]\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "linkcheck",
            f"--config={config}",
            "--no-status",
            f"{base_url}/",
            f"{base_url}/en/",
            f"{base_url}/404.html",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    report = result.stdout
    assert re.search(r"\b0 errors found", report), report
    assert "not found. Available anchors" not in report, report  # AnchorCheck's warning
    assert re.search(r"(\d+) links in \1 URLs checked", report), report


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
