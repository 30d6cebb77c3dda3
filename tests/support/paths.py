"""Where things are: the repository, the snippets, their recorded output, the harness, the pages."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "snippets"
OUTPUT = SNIPPETS / "output"
HARNESS = ROOT / "tests" / "harness"
DOCS = ROOT / "docs"
LANGS = ("ko", "en")
