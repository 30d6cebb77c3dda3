"""One search index per language, each loaded only by its own language's pages.

mkdocs-static-i18n builds every language into one site and, by design, merges their search
entries into one `search/search_index.json` (reconfigure.py: extend_search_entries,
reconfigure_search_index). After that merge, this hook splits the index by location prefix:
the default language keeps `search/search_index.json`, every other language gets
`<link>/search/search_index.json` (here `en/search/search_index.json`) with its locations made
relative to `<link>`. overrides/main.html sets that language's `base` to `<link>`, and Material
fetches `search/search_index.json` and resolves result locations relative to `base`.

Each index carries the search settings Material gives a one-language site in that language:
`lang` the locale (if lunr has it), `separator` and `pipeline` from Material's translation for
that locale (partials/languages/<locale>.html, English as fallback), as its search plugin does.
"""

import json
import os
import re
from pathlib import Path

import material
from mkdocs.plugins import event_priority

LUNR = Path(material.__file__).parent / "templates" / "assets" / "javascripts" / "lunr" / "min"


def split(index, prefixes):
    """{prefix: index}: entries under each prefix ("" = the default language: everything else)."""
    others = tuple(p for p in prefixes if p)
    split = {}
    for prefix in prefixes:
        if prefix:
            docs = [
                {**doc, "location": doc["location"][len(prefix) :]}
                for doc in index["docs"]
                if doc["location"].startswith(prefix)
            ]
        else:
            docs = [doc for doc in index["docs"] if not doc["location"].startswith(others)]
        split[prefix] = {"config": dict(index["config"]), "docs": docs}
    return split


def search_config(env, locale):
    """lang, separator and pipeline as Material's search plugin sets them for `locale`."""
    files = [f"partials/languages/{locale}.html", "partials/languages/en.html"]
    modules = [env.get_template(f).module for f in files if f in env.list_templates()]

    def t(key):
        return next((str(v) for m in modules if (v := m.t(key))), "")

    lang = locale if locale == "en" or (LUNR / f"lunr.{locale}.min.js").exists() else "en"
    pipeline = [p for p in re.split(r"\s*,\s*", t("search.config.pipeline")) if len(p)]
    return {"lang": [lang], "separator": t("search.config.separator"), "pipeline": pipeline}


@event_priority(-150)  # after mkdocs-static-i18n's on_post_build (-100), which writes the merge
def on_post_build(config):
    i18n = config.plugins.get("i18n")
    if i18n is None or i18n.building:
        return  # inside the build of one more language: the merged index is not written yet
    path = Path(config.site_dir) / "search" / "search_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    languages = [lang for lang in i18n.config.languages if lang.build]
    prefixes = {lang.link.lstrip("/"): lang.locale for lang in languages}
    env = config.theme.get_env()
    for prefix, part in split(index, prefixes).items():
        part["config"].update(search_config(env, prefixes[prefix]))
        out = Path(config.site_dir) / prefix / "search" / "search_index.json"
        os.makedirs(out.parent, exist_ok=True)
        # UTF-8 rather than \u escapes: Hangul takes 3 bytes instead of 6 (Material reads the
        # index as a Blob's text(), which is always UTF-8).
        text = json.dumps(part, separators=(",", ":"), ensure_ascii=False, default=str)
        out.write_text(text, encoding="utf-8")
