"""`nox -s audit`: this site beside stock Material, measured side by side, against budgets.

Builds this site, and a stock Material site (`theme: material`, the search plugin, this site's
markdown_extensions; no overrides, hooks, extra CSS/JS or i18n; one build per language) from
the same Markdown as this site's heaviest pages (STOCK_PAGES, snippets inlined by
pymdownx.snippets). Both are served by the same gzip-compressing static server on loopback
(GzipHandler, one server each, port 0). Lighthouse (npm, pinned; default config: mobile,
simulated throttling, all four categories in one run) measures every page of this site and
every stock page, runs alternated (each page of ours, then its stock twin where it has one),
RUNS rounds; the median of each figure counts. axe-core checks every page once, in the same
Chromium, through Playwright.

Budget, per page of ours (both languages), against the stock build of the same page, or for
a page not rebuilt in stock, against the heaviest stock page of its language (the largest
median transfer):
median performance >= stock's, TBT <= stock's + 50 ms, transfer <= stock's + 5 KiB;
accessibility, best practices and SEO 100; no axe violation; no request off the loopback host,
no console error. Exits non-zero when a page misses one.

Usage: python tools/audit.py NODE_MODULES_DIR [--runs N] [--only PATH ...]
"""

import argparse
import functools
import gzip
import http.server
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(__file__).resolve().parent
# The pages rebuilt with stock Material: the heaviest (most code and notes) and the home pages.
STOCK_PAGES = {
    "ko": ["index.md", "non-blocking.md", "echo-servers/index.md", "tls.md", "framing.md"],
    "en": ["index.md", "non-blocking.md", "echo-servers/index.md", "tls.md", "framing.md"],
}
SCORES_100 = ("accessibility", "best-practices", "seo")
TBT_SLACK_MS = 50
TRANSFER_SLACK_KIB = 5
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
CHROME = shutil.which("chromium") or "/usr/bin/chromium"
ENV = os.environ | {"NO_MKDOCS_2_WARNING": "1", "CHROME_PATH": CHROME}

STOCK_CONFIG = """\
site_name: Stock Material
docs_dir: docs
theme:
  name: material
  language: {language}
  font: false  # as this site: a Google Fonts request would leave the loopback host
plugins:
  - search
"""


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files gzip-compressed when the browser asks, like GitHub Pages does."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        if not path.is_file() or "gzip" not in self.headers.get("Accept-Encoding", ""):
            return super().send_head()
        body = gzip.compress(path.read_bytes())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return io.BytesIO(body)


@functools.cache
def markdown_extensions():
    """This site's `markdown_extensions:` section of mkdocs.yml, as it is."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    start = text.index("\nmarkdown_extensions:\n") + 1
    lines = text[start:].splitlines(keepends=True)
    end = next((i for i, line in enumerate(lines[1:], 1) if line[:1] not in " \n#"), len(lines))
    section = "".join(lines[:end])
    # pymdownx.snippets resolves `--8<--` paths against base_path, relative to the working
    # directory: the builds run at the repository root, so the stock pages inline the same files.
    assert "base_path: [.]" in section, section
    return section


def build(site, *args):
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(site), *args],
        cwd=ROOT,
        check=True,
        env=ENV,
    )


def build_stock(tmp):
    """One stock Material site per language under tmp/stock/<language>/."""
    for language, pages in STOCK_PAGES.items():
        src = tmp / "stock-src" / language
        for page in pages:
            (src / "docs" / page).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / "docs" / language / page, src / "docs" / page)
        config = STOCK_CONFIG.format(language=language) + markdown_extensions()
        (src / "mkdocs.yml").write_text(config, encoding="utf-8")
        # Not --strict: the pages link to pages this small site does not have.
        build(tmp / "stock" / language, "--config-file", str(src / "mkdocs.yml"))


def pages(site):
    found = sorted(p.relative_to(site).as_posix() for p in site.rglob("index.html"))
    return ["/" + p.removesuffix("index.html") for p in found] + ["/404.html"]


def stock_twin(path):
    """The stock page built from the same Markdown as our page at `path`, or None."""
    language, rest = ("en", path[4:]) if path.startswith("/en/") else ("ko", path[1:])
    for page in STOCK_PAGES[language]:
        url = page.removesuffix("index.md") if page.endswith("index.md") else page[:-3] + "/"
        if rest == url:
            return f"/{language}/{rest}"
    return None


def serve(directory):
    handler = functools.partial(GzipHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def axe_violations(node_modules, urls):
    from playwright.sync_api import sync_playwright

    script = (node_modules / "axe-core" / "axe.min.js").read_text()
    found = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROME, args=CHROME_FLAGS.split()[1:])
        page = browser.new_page()
        for url in urls:
            page.goto(url, wait_until="networkidle")
            page.add_script_tag(content=script)
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            found[url] = [(v["id"], len(v["nodes"])) for v in result["violations"]]
        browser.close()
    return found


class Lighthouse:
    """One node process and one Chromium for every run (tools/lighthouse.mjs)."""

    def __init__(self, node_modules):
        self.process = subprocess.Popen(
            ["node", str(TOOLS / "lighthouse.mjs"), str(node_modules), CHROME_FLAGS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=ENV,
        )

    def run(self, url):
        self.process.stdin.write(url + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"lighthouse ended while measuring {url}")
        return summary(json.loads(line))

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def summary(lhr):
    if lhr.get("runtimeError"):
        raise RuntimeError(f"{lhr['finalDisplayedUrl']}: {lhr['runtimeError']}")
    audits = lhr["audits"]
    requests = audits["network-requests"]["details"]["items"]
    groups = {
        i["group"]: i["duration"] for i in audits["mainthread-work-breakdown"]["details"]["items"]
    }
    return {
        **{k: round(v["score"] * 100) for k, v in lhr["categories"].items()},
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "kib": audits["total-byte-weight"]["numericValue"] / 1024,
        "main": audits["mainthread-work-breakdown"]["numericValue"],
        "style": groups.get("styleLayout", 0),
        "script": groups.get("scriptEvaluation", 0),
        "dom": audits["dom-size"]["numericValue"],
        "hosts": sorted(
            {urlsplit(r["url"]).hostname for r in requests if r["url"].startswith("http")}
            - {"127.0.0.1"}
        ),
        "errors": len(audits["errors-in-console"]["details"].get("items", [])),
        "warnings": lhr.get("runWarnings", []),
    }


def median(runs):
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    result = {k: statistics.median(r[k] for r in runs) for k in keys}
    result["range"] = (min(r["performance"] for r in runs), max(r["performance"] for r in runs))
    result["hosts"] = sorted({h for r in runs for h in r["hosts"]})
    result["errors"] = max(r["errors"] for r in runs)
    result["warnings"] = sorted({w for r in runs for w in r["warnings"]})
    return result


HEADER = (
    "| | performance | FCP | LCP | TBT | transfer KiB | a11y / best practices / SEO | axe "
    "| main thread (style & layout, script) | DOM elements |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def row(name, m, axe):
    return (
        f"| {name} | {m['performance']:.0f} ({m['range'][0]}–{m['range'][1]}) "
        f"| {m['fcp'] / 1000:.2f} s | {m['lcp'] / 1000:.2f} s | {m['tbt']:.0f} ms "
        f"| {m['kib']:.1f} | {m['accessibility']:.0f} / {m['best-practices']:.0f} / "
        f"{m['seo']:.0f} | {len(axe)} | {m['main']:.0f} ms ({m['style']:.0f}, "
        f"{m['script']:.0f}) | {m['dom']:.0f} |"
    )


def budget(page, ours, stock, axe):
    failures = []
    if ours["performance"] < stock["performance"]:
        failures.append(f"performance {ours['performance']:.0f} < stock {stock['performance']:.0f}")
    if ours["tbt"] > stock["tbt"] + TBT_SLACK_MS:
        failures.append(f"TBT {ours['tbt']:.0f} ms > stock {stock['tbt']:.0f} + {TBT_SLACK_MS}")
    if ours["kib"] > stock["kib"] + TRANSFER_SLACK_KIB:
        failures.append(
            f"transfer {ours['kib']:.1f} KiB > stock {stock['kib']:.1f} + {TRANSFER_SLACK_KIB}"
        )
    failures += [f"{k} {ours[k]:.0f} < 100" for k in SCORES_100 if ours[k] < 100]
    failures += [f"axe {rule} ({n} nodes)" for rule, n in axe]
    if ours["hosts"]:
        failures.append(f"requests to {ours['hosts']}")
    if ours["errors"]:
        failures.append(f"{ours['errors']} console errors")
    return [f"{page}: {f}" for f in failures]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("node_modules", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (>= 3)")
    parser.add_argument("--only", nargs="*", help="measure only these paths of ours, e.g. /en/")
    args = parser.parse_args()
    node_modules = args.node_modules.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build(tmp / "ours", "--strict")
        build_stock(tmp)
        ours_server, ours_base = serve(tmp / "ours")
        stock_server, stock_base = serve(tmp / "stock")
        ours_pages = [p for p in pages(tmp / "ours") if not args.only or p in args.only]
        stock_pages = [f"/{lang}{p}" for lang in STOCK_PAGES for p in pages(tmp / "stock" / lang)]
        stock_pages = [p for p in stock_pages if not p.endswith("/404.html")]
        twins = {p: stock_twin(p) for p in ours_pages}
        assert set(stock_pages) >= {t for t in twins.values() if t}, (stock_pages, twins)
        print(f"stock pages: {stock_pages}", flush=True)
        axe = axe_violations(
            node_modules,
            [ours_base + p for p in ours_pages] + [stock_base + p for p in stock_pages],
        )
        # Alternate: each page of ours, then its stock twin; the stock pages with no twin in the
        # selection run after the page of ours they follow in `stock_pages` order, so every round
        # measures every stock page once.
        order = []
        for page in ours_pages:
            order.append(("ours", page))
            if twins[page]:
                order.append(("stock", twins[page]))
        for page in stock_pages:
            if ("stock", page) not in order:
                at = len(order) * (stock_pages.index(page) + 1) // (len(stock_pages) + 1)
                order.insert(at, ("stock", page))
        runs = {key: [] for key in order}
        lighthouse = Lighthouse(node_modules)
        try:
            for round_ in range(args.runs):
                for site, page in order:
                    base = ours_base if site == "ours" else stock_base
                    runs[site, page].append(lighthouse.run(base + page))
                    r = runs[site, page][-1]
                    print(
                        f"round {round_ + 1}/{args.runs} {site:5} {page}: perf {r['performance']} "
                        f"TBT {r['tbt']:.0f} ms {r['kib']:.1f} KiB",
                        flush=True,
                    )
        finally:
            lighthouse.close()
            ours_server.shutdown()
            stock_server.shutdown()
    medians = {key: median(value) for key, value in runs.items()}
    # Per language: the stock page with the largest median transfer.
    heaviest = {
        language: max(
            (p for p in stock_pages if p.startswith(f"/{language}/")),
            key=lambda p: medians["stock", p]["kib"],
        )
        for language in STOCK_PAGES
    }
    failures = []
    print(f"\nMedian of {args.runs} Lighthouse runs (12.2.3, mobile, default categories).")
    print(
        "Pages not rebuilt in stock are compared with the heaviest stock page of their "
        f"language: {', '.join(heaviest.values())}.\n"
    )
    for page in ours_pages:
        twin = twins[page] or heaviest["en" if page.startswith("/en/") else "ko"]
        ours, stock = medians["ours", page], medians["stock", twin]
        found = budget(page, ours, stock, axe[ours_base + page])
        failures += found
        print(f"#### `{page}` beside stock `{twin}`\n\n{HEADER}")
        print(row("ours", ours, axe[ours_base + page]))
        print(row("stock", stock, axe[stock_base + twin]))
        print("\n" + ("Over budget: " + "; ".join(found) if found else "Within budget.") + "\n")
    warnings = sorted({w for m in medians.values() for w in m["warnings"]})
    if warnings:
        print("Lighthouse warnings:\n  " + "\n  ".join(warnings))
    if failures:
        print("\nOver budget:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nEvery page is within budget.")


if __name__ == "__main__":
    main()
