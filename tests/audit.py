"""`nox -s audit`: Lighthouse and axe-core on every page of both languages, against budgets.

Builds the site, serves it gzip-compressed on loopback (as a static host would), runs
Lighthouse (npm, pinned) in Debian's Chromium and axe-core in the same browser through
Playwright, prints one table and exits non-zero when a page misses a budget.
Lighthouse's performance score moves from run to run on the same page, so each page is measured
RUNS times and the median run counts, as Lighthouse's documentation on variability advises; the
table shows the spread.
Usage: python tests/audit.py NODE_MODULES_DIR
"""

import functools
import gzip
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"performance": 98, "accessibility": 100, "best-practices": 100, "seo": 100}
FIRST_LOAD_KIB = 70  # HTML + CSS + JS, gzip-compressed
RUNS = 5  # performance runs per page; the median one counts (Lighthouse suggests five)
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files gzip-compressed when the browser asks, like GitHub Pages does."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.endswith("/"):
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


def pages(site):
    found = sorted(p.relative_to(site).as_posix() for p in site.rglob("index.html"))
    return ["/" + p.removesuffix("index.html") for p in found] + ["/404.html"]


def lighthouse(node_modules, url, out, *options):
    subprocess.run(
        [
            str(node_modules / ".bin" / "lighthouse"),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            f"--chrome-flags={CHROME_FLAGS}",
            *options,
        ],
        check=True,
        timeout=180,
        env=os.environ | {"CHROME_PATH": shutil.which("chromium") or "/usr/bin/chromium"},
    )
    return json.loads(Path(out).read_text())


def axe_violations(node_modules, urls):
    from playwright.sync_api import sync_playwright

    script = (node_modules / "axe-core" / "axe.min.js").read_text()
    found = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROME_FLAGS.split()[1:]
        )
        page = browser.new_page()
        for url in urls:
            page.goto(url, wait_until="networkidle")
            page.add_script_tag(content=script)
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            found[url] = [(v["id"], len(v["nodes"])) for v in result["violations"]]
        browser.close()
    return found


def main():
    node_modules = Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mkdocs",
                "build",
                "--strict",
                "--quiet",
                "--site-dir",
                str(site),
            ],
            cwd=ROOT,
            check=True,
            env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},
        )
        handler = functools.partial(GzipHandler, directory=str(site))
        with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            base = f"http://127.0.0.1:{server.server_address[1]}"
            urls = [base + p for p in pages(site)]
            axe = axe_violations(node_modules, urls)
            rows, failures = [], []
            for url in urls:
                out = Path(tmp) / "report.json"
                report = lighthouse(node_modules, url, out)
                scores = {k: round(v["score"] * 100) for k, v in report["categories"].items()}
                runs = [report] + [
                    lighthouse(node_modules, url, out, "--only-categories=performance")
                    for _ in range(RUNS - 1)
                ]
                runs.sort(key=lambda r: r["categories"]["performance"]["score"])
                median = runs[len(runs) // 2]
                scores["performance"] = round(median["categories"]["performance"]["score"] * 100)
                spread = [round(r["categories"]["performance"]["score"] * 100) for r in runs]
                tbt = median["audits"]["total-blocking-time"]["numericValue"]
                fcp = median["audits"]["first-contentful-paint"]["numericValue"]
                requests = report["audits"]["network-requests"]["details"]["items"]
                hosts = {urlsplit(r["url"]).hostname for r in requests if "//" in r["url"][:8]}
                hosts -= {"127.0.0.1"}
                first = sum(
                    r.get("transferSize", 0)
                    for r in requests
                    if r.get("resourceType") in ("Document", "Stylesheet", "Script")
                )
                raw = sum(r.get("resourceSize", 0) for r in requests)
                compressed = sum(r.get("transferSize", 0) for r in requests)
                errors = report["audits"]["errors-in-console"]["details"].get("items", [])
                page = urlsplit(url).path
                rows.append(
                    f"| `{page}` | {scores['performance']} ({spread[0]}–{spread[-1]}) | "
                    f"{fcp / 1000:.1f} s | {tbt:.0f} ms | {scores['accessibility']} | "
                    f"{scores['best-practices']} | {scores['seo']} | {len(axe[url])} | "
                    f"{first / 1024:.1f} | {compressed / 1024:.1f} | {raw / 1024:.1f} | "
                    f"{len(requests)} |"
                )
                print(rows[-1], flush=True)
                failures += [
                    f"{page}: {k} {scores[k]} < {v}" for k, v in BUDGET.items() if scores[k] < v
                ]
                failures += [f"{page}: axe {rule} ({n} nodes)" for rule, n in axe[url]]
                if first / 1024 > FIRST_LOAD_KIB:
                    failures.append(f"{page}: first load {first / 1024:.1f} KiB > {FIRST_LOAD_KIB}")
                if hosts:
                    failures.append(f"{page}: requests to {sorted(hosts)}")
                if errors:
                    failures.append(f"{page}: console errors {errors}")
    print()
    print(
        f"| page | perf (median of {RUNS}, range) | FCP | TBT | a11y | best practices | SEO | axe "
        "| first load KiB (gzip, HTML+CSS+JS) | all KiB (gzip) | all KiB (raw) | requests |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if failures:
        print("\nOver budget:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nEvery page is within budget.")


if __name__ == "__main__":
    main()
