"""MkDocs hook: a faster build and `mkdocs serve` rebuild, with the same output.

Four caches of work that does not change between builds (nor between the two languages'
builds): compiled templates, highlighted code blocks, the listing of the installed theme's
files, and the search entries of an unchanged page. None changes what is written:
tests/test_hooks.py checks each against the uncached result.
"""

import copy
import hashlib
import json
import os
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import jinja2

SEARCH_CACHE = Path(tempfile.gettempdir()) / f"mkdocs-search-entries-{getattr(os, 'getuid', str)()}"


def on_env(env, config, files):
    """Keep the theme's compiled templates between builds (and between the two languages).

    Compiling Material's templates is a quarter of a build: each language's build and each
    `mkdocs serve` rebuild makes a new Jinja environment and compiles them all again. Jinja's
    bytecode cache (a private folder in the temporary directory) checks each template's source
    against the cached code, so an edited template is compiled afresh.
    """
    env.bytecode_cache = jinja2.FileSystemBytecodeCache()
    return env


def on_config(config):
    """Highlight each distinct code block once per process, not once per page and language.

    Every snippet is shown in both languages, and `mkdocs serve` rebuilds every page on each
    edit: Pygments ran about 70 times for some 35 distinct blocks on every (re)build. The cache
    lives on the pymdownx.highlight module, which `mkdocs serve` keeps loaded between rebuilds
    (this hook file is loaded afresh each time). The key is the highlighter's settings and all
    the arguments (not the page's Markdown instance, which only a title in "html" mode uses;
    those are not cached), so a changed block, language or option is highlighted anew.
    """
    import pymdownx.highlight as highlight

    if not hasattr(highlight, "site_cache"):
        highlight.site_cache = {}
        plain = highlight.Highlight.highlight

        def cached(self, *args, **kwargs):
            if self.title_mode == "html":  # the title goes to this page's Markdown stash
                return plain(self, *args, **kwargs)
            settings = sorted((k, v) for k, v in vars(self).items() if k != "md")
            key = repr((settings, args, sorted(kwargs.items())))
            if key not in highlight.site_cache:
                if len(highlight.site_cache) > 5000:  # a long serve session: start again
                    highlight.site_cache.clear()
                highlight.site_cache[key] = plain(self, *args, **kwargs)
            return highlight.site_cache[key]

        highlight.Highlight.highlight = cached
    cache_installed_template_listings()
    cache_search_entries()
    return config


def cache_installed_template_listings():
    """List an installed theme's files once per process.

    Every build lists every file of every theme folder, twice per language (MkDocs looks for
    static files, search_per_language.py for lunr's languages); Material's folder holds some 14,000
    icons, a third of a second per `mkdocs serve` rebuild. A folder inside the Python
    installation does not change while MkDocs runs, so its listing is kept (on the jinja2
    module, which outlives this hook file); the project's own folders (overrides/) are listed
    afresh every time, so a new template is seen.
    """
    import jinja2.loaders as loaders

    if hasattr(loaders, "site_listings"):
        return
    loaders.site_listings = {}
    plain = loaders.FileSystemLoader.list_templates
    installed = (Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve())

    def listing(self, path):
        if not any(Path(path).resolve().is_relative_to(root) for root in installed):
            return plain(loaders.FileSystemLoader(path, followlinks=self.followlinks))
        key = (path, self.followlinks)
        if key not in loaders.site_listings:
            single = loaders.FileSystemLoader(path, followlinks=self.followlinks)
            loaders.site_listings[key] = plain(single)
        return loaders.site_listings[key]

    def cached(self):
        return sorted({name for path in self.searchpath for name in listing(self, path)})

    loaders.FileSystemLoader.list_templates = cached


def cache_search_entries():
    """Parse each page's HTML for the search index once, not on every build and rebuild.

    Material's search plugin feeds every page's HTML to a Python HTML parser to cut it into
    sections, a quarter of a build. The entries a page gives depend only on its URL, title,
    front matter, table of contents and HTML (and Material's version), so they are kept,
    keyed by those, in memory (on the plugin's SearchIndex class, which outlives this hook file
    under `mkdocs serve`) and in a per-user folder of the temporary directory (for the next
    `mkdocs build`). A changed page has a new key and is parsed afresh.
    """
    from material.plugins.search import plugin as search

    index = search.SearchIndex
    if hasattr(index, "site_cache"):
        return
    index.site_cache = {}
    plain = index.add_entry_from_context
    material = version("mkdocs-material")

    def toc(items):
        return [(i.title, i.url, toc(i.children)) for i in items]

    def cached(self, page):
        facts = (material, page.url, page.title, page.meta, toc(page.toc), page.content)
        key = hashlib.sha256(repr(facts).encode()).hexdigest()
        entries = index.site_cache.get(key)
        path = SEARCH_CACHE / f"{key}.json"
        if entries is None:
            try:
                entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                before = len(self.entries)
                plain(self, page)
                entries = copy.deepcopy(self.entries[before:])
                SEARCH_CACHE.mkdir(mode=0o700, exist_ok=True)
                partial = path.with_suffix(f".{os.getpid()}")
                partial.write_text(json.dumps(entries), encoding="utf-8")
                partial.replace(path)  # whole or absent, even with two builds at once
                index.site_cache[key] = entries
                return
            if len(index.site_cache) > 5000:  # a long serve session: start again
                index.site_cache.clear()
            index.site_cache[key] = entries
        self.entries.extend(copy.deepcopy(entries))

    index.add_entry_from_context = cached
