"""MkDocs hook: a faster build and `mkdocs serve` rebuild, with the same output.

Five caches of work that does not change between builds (nor between the two languages'
builds): compiled templates, highlighted code blocks, the listing of the installed theme's
files, an unchanged page's HTML, and its search entries. None changes what is written:
tests/test_hooks.py checks each against the uncached result, and a whole build with the
caches against one without (SITE_BUILD_CACHE=off turns them off).
"""

import copy
import hashlib
import json
import logging
import os
import stat
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import jinja2

USER = getattr(os, "getuid", str)()
SEARCH_CACHE = Path(tempfile.gettempdir()) / f"mkdocs-search-entries-{USER}"
PAGE_CACHE = Path(tempfile.gettempdir()) / f"mkdocs-pages-{USER}"
# What a page's HTML depends on besides its Markdown, the files it includes and the site's
# files: the configuration, this file, and the versions of what converts Markdown.
RENDERERS = ("mkdocs", "markdown", "pymdown-extensions", "mkdocs-material", "pygments")


def enabled():
    return os.environ.get("SITE_BUILD_CACHE") != "off"


def on_env(env, config, files):
    """Keep the theme's compiled templates between builds (and between the two languages).

    Compiling Material's templates is a quarter of a build: each language's build and each
    `mkdocs serve` rebuild makes a new Jinja environment and compiles them all again. Jinja's
    bytecode cache (a private folder in the temporary directory) checks each template's source
    against the cached code, so an edited template is compiled afresh.
    """
    if enabled():
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
            if self.title_mode == "html" or not enabled():  # html: the title goes to the stash
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
    cache_rendered_pages()
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
        if not enabled():
            return plain(self)
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
        if not enabled():
            return plain(self, page)
        facts = (material, page.url, page.title, page.meta, toc(page.toc), page.content)
        key = hashlib.sha256(repr(facts).encode()).hexdigest()
        entries = index.site_cache.get(key)
        if entries is None:
            entries = load_json(SEARCH_CACHE, key)
            if entries is None:
                before = len(self.entries)
                plain(self, page)
                entries = copy.deepcopy(self.entries[before:])
                store_json(SEARCH_CACHE, key, entries)
                index.site_cache[key] = entries
                return
            if len(index.site_cache) > 5000:  # a long serve session: start again
                index.site_cache.clear()
            index.site_cache[key] = entries
        self.entries.extend(copy.deepcopy(entries))

    index.add_entry_from_context = cached


def cache_rendered_pages():
    """Convert each page's Markdown once, not on every build and rebuild.

    Markdown (with the snippets it includes and Pygments) is half of a build once the rest is
    cached. A page's HTML, table of contents, title and anchors depend only on its Markdown, the
    files pymdownx.snippets includes, the site's files (links are resolved against them), the
    configuration and the versions of what converts it: the result is kept, keyed by those, in
    memory (on MkDocs' Page class, which outlives this hook file under `mkdocs serve`) and in a
    per-user folder of the temporary directory. An included file is checked by its bytes each
    time. A page whose conversion logs anything (a broken link, say) is converted on every build,
    so the message is never lost.
    """
    import pymdownx.snippets as snippets
    from mkdocs.structure.pages import Page
    from mkdocs.structure.toc import get_toc

    if hasattr(Page, "site_cache"):
        return
    Page.site_cache = {}
    plain_render = Page.render
    plain_snippet_path = snippets.SnippetPreprocessor.get_snippet_path
    reading = []  # the files included by each conversion under way
    fixed = {}  # the configuration's and the site files' part of the key, per build

    def get_snippet_path(self, path):
        found = plain_snippet_path(self, path)
        if found is not None and reading:
            reading[-1].add(os.path.abspath(found))
        return found

    def digest(*parts):
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    def site_key(config, files):
        if fixed.get("files") is not files:  # a new build, or the other language's
            versions = [version(name) for name in RENDERERS]
            names = sorted((f.src_uri, f.url, f.dest_uri) for f in files)
            fixed.update(
                files=files,
                key=digest(
                    Path(config.config_file_path).read_bytes(),
                    Path(__file__).read_bytes(),
                    config.theme.get("language"),
                    config.docs_dir,
                    versions,
                    names,
                    logging.getLogger("mkdocs").getEffectiveLevel() > logging.DEBUG,
                ),
            )
        return fixed["key"]

    def unchanged(included):
        try:
            return all(file_digest(path) == sha for path, sha in included.items())
        except OSError:
            return False

    def render(self, config, files):
        if not enabled() or not config.config_file_path:  # no mkdocs.yml to key it by
            return plain_render(self, config, files)
        key = digest(site_key(config, files), self.file.src_uri, self.file.url, self.markdown)
        entry = Page.site_cache.get(key) or load_json(PAGE_CACHE, key)
        if entry is not None and unchanged(entry["included"]):
            if len(Page.site_cache) > 2000:  # a long serve session: start again
                Page.site_cache.clear()
            Page.site_cache[key] = entry
            self.content = entry["content"]
            self.toc = get_toc(entry["toc"])
            self._title_from_render = entry["title"]
            self.present_anchor_ids = set(entry["anchors"])
            if entry["links_to_anchors"] is not None:
                self.links_to_anchors = {
                    files.get_file_from_path(uri): links
                    for uri, links in entry["links_to_anchors"].items()
                }
            return None
        said = Said()
        reading.append(set())
        for name in ("", "mkdocs"):
            logging.getLogger(name).addHandler(said)
        try:
            plain_render(self, config, files)
        finally:
            included = reading.pop()
            for name in ("", "mkdocs"):
                logging.getLogger(name).removeHandler(said)
        # A page whose conversion logged, or could not have (`mkdocs build -q` silences warnings
        # before they are made), is not kept: a later build must say what this one saw.
        listening = all(logging.getLogger(n).isEnabledFor(logging.WARNING) for n in ("", "mkdocs"))
        if said.records or not listening:
            return None
        links = self.links_to_anchors
        entry = {
            "content": self.content,
            "toc": toc_tokens(self.toc),
            "title": self._title_from_render,
            "anchors": sorted(self.present_anchor_ids),
            "links_to_anchors": None
            if links is None
            else {to.src_uri: dict(anchors) for to, anchors in links.items()},
            "included": {name: file_digest(name) for name in sorted(included)},
        }
        Page.site_cache[key] = entry
        store_json(PAGE_CACHE, key, entry)
        return None

    snippets.SnippetPreprocessor.get_snippet_path = get_snippet_path
    Page.render = render


class Said(logging.Handler):
    """The records of INFO and above logged while a page is converted."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.records = []

    def emit(self, record):
        self.records.append(record)
        # On the root logger this handler would silence Python's last resort, which prints a
        # record that no other handler takes (a warning from Python-Markdown's own logger, say).
        if self.alone(record) and record.levelno >= logging.lastResort.level:
            logging.lastResort.handle(record)

    def alone(self, record):
        logger = logging.getLogger(record.name)
        while logger:
            if any(handler is not self for handler in logger.handlers):
                return False
            if not logger.propagate:
                break
            logger = logger.parent
        return True


def private_folder(folder):
    """Whether `folder` (made if missing) is a folder only this user can use.

    The caches live in the shared temporary directory under names anyone can guess: a folder
    another user made there, or a link, could feed a build HTML of their choosing. So, as
    Jinja's bytecode cache does with its own folder, a cache folder must be a real folder,
    this user's, closed to others; otherwise the cache is not used.
    """
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if hasattr(os, "getuid"):
        return info.st_uid == os.getuid() and not info.st_mode & 0o077
    return True


def load_json(folder, key):
    """What store_json kept under `key`, or None."""
    if not private_folder(folder):
        return None
    try:
        return json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store_json(folder, key, data):
    if not private_folder(folder):
        return
    path = folder / f"{key}.json"
    partial = path.with_suffix(f".{os.getpid()}")
    partial.write_text(json.dumps(data), encoding="utf-8")
    partial.replace(path)  # whole or absent, even with two builds at once


def file_digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def toc_tokens(toc):
    """The tokens MkDocs' get_toc() was given, back from the TableOfContents it made."""
    return [
        {
            "level": item.level,
            "id": item.id,
            "name": item.title,
            "html": item.title,
            "children": toc_tokens(item.children),
        }
        for item in toc
    ]
