"""The benchmark's figures on the echo servers page: snippets/output/bench.json, written by
`nox -s bench` (tools/bench.py), shown as a table in each language between the BEGIN and END
markers of docs/*/echo-servers/index.md. `pytest --update-examples` (and tools/bench.py after a
run) writes the tables from the stored figures; tests/test_echo_servers.py checks that the pages
show exactly them."""

import json
import re

from support.paths import DOCS, OUTPUT

FIGURES = OUTPUT / "bench.json"
BEGIN = "<!-- BEGIN bench: written from snippets/output/bench.json -->"
END = "<!-- END bench -->"
TABLE = {  # the words of the table, per language; figures and file names are the same in both
    "en": {
        "header": "| server | connections held | messages per second | p50 latency (ms) "
        "| p90 latency (ms) | p99 latency (ms) |",
        "machine": "Measured on: {cpu}, {cpus} CPUs, {system} {release}, Python {python}, {date}.",
    },
    "ko": {
        "header": "| 서버 | 유지한 연결 | 초당 메시지 수 | 지연 시간 p50 (밀리초) "
        "| 지연 시간 p90 (밀리초) | 지연 시간 p99 (밀리초) |",
        "machine": "측정 환경: {cpu}, CPU {cpus}개, {system} {release}, Python {python}, {date}.",
    },
}


def table(figures, lang):
    """The Markdown table of `figures` (as stored in bench.json) in one language."""
    words = TABLE[lang]
    rows = [words["header"], "|---|---|---|---|---|---|"]
    for row in figures["servers"]:
        rows.append(
            f"| `{row['server']}` | {row['held']:,} / {figures['held']:,} | {row['rate']:,.0f} | "
            f"{row['p50']:.2f} | {row['p90']:.2f} | {row['p99']:.2f} |"
        )
    return "\n".join(rows) + "\n\n" + words["machine"].format(**figures["machine"]) + "\n"


def page(lang):
    return DOCS / lang / "echo-servers" / "index.md"


def shown(lang):
    """The table the page of `lang` shows now."""
    text = page(lang).read_text(encoding="utf-8")
    return re.search(rf"{re.escape(BEGIN)}\n\n(.*?)\n{re.escape(END)}", text, re.S).group(1)


def render():
    """Write the stored figures into both pages."""
    figures = json.loads(FIGURES.read_text(encoding="utf-8"))
    for lang in TABLE:
        text = page(lang).read_text(encoding="utf-8")
        old, new = shown(lang), table(figures, lang)
        text = text.replace(f"{BEGIN}\n\n{old}\n{END}", f"{BEGIN}\n\n{new}\n{END}")
        page(lang).write_text(text, encoding="utf-8")
