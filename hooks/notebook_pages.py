"""MkDocs hook: each notebook (`.ipynb`) is a page of its language, rendered once per content.

- MkDocs counts only Markdown files as pages; counting `.ipynb` too makes a notebook a page that
  mkdocs-static-i18n localizes like the others, each language's folder with its own notebook
  (mkdocs-static-i18n issue 198).
- mkdocs-jupyter renders the outputs stored in the notebook (`execute: false`:
  tests/test_notebook.py runs the notebooks, `pytest --update-examples` stores their outputs);
  notebook_markup.slim_notebook turns its HTML into this site's page markup, and the plot files
  it takes out of the page are written beside it.
- mkdocs-jupyter converts each notebook twice per build (to HTML, and to Markdown for the table
  of contents) and its own cache does not survive mkdocs-static-i18n (the second language's
  build evicts the first's entries). So the slimmed page is kept in a per-user folder of the
  temporary directory, keyed by the notebook's bytes, the hook files, mkdocs-jupyter's version
  and the site's pages: an unchanged notebook is converted once, not on every build and every
  `mkdocs serve` rebuild.
"""

import base64
import hashlib
import json
import os
import tempfile
import types
from importlib.metadata import version
from pathlib import Path

import mkdocs.utils
from build_cache import load_json, store_json  # beside this file (as notebook_markup)
from mkdocs.structure.toc import get_toc
from notebook_markup import slim_notebook  # beside this file: MkDocs puts its folder on sys.path

CACHE = Path(tempfile.gettempdir()) / f"mkdocs-notebook-pages-{getattr(os, 'getuid', str)()}"
HOOKS = tuple(
    Path(__file__).with_name(name)
    for name in ("notebook_pages.py", "notebook_markup.py", "build_cache.py")
)


def is_notebook(page):
    return page.file.src_uri.endswith(".ipynb")


def on_config(config):
    """Count `.ipynb` files as pages (before the files are gathered)."""
    if ".ipynb" not in mkdocs.utils.markdown_extensions:
        mkdocs.utils.markdown_extensions = (*mkdocs.utils.markdown_extensions, ".ipynb")
    return config


def on_pre_page(page, config, files):
    """Wrap mkdocs-jupyter's render (set by its on_pre_page, which runs before the hooks)."""
    if not is_notebook(page):
        return page
    convert = page.render
    alt = config.extra["ui"]["plot_alt"]  # mkdocs.yml: the UI strings of each language
    pages = sorted(f"{f.src_uri} {f.url}" for f in files.documentation_pages())
    key = hashlib.sha256()
    for part in (
        Path(page.file.abs_src_path).read_bytes(),
        *(hook.read_bytes() for hook in HOOKS),
        version("mkdocs-jupyter").encode(),
        repr((alt, page.file.src_uri, pages)).encode(),
    ):
        key.update(hashlib.sha256(part).digest())
    key = key.hexdigest()

    def render(self, config, files):
        slim = load_json(CACHE, key)
        if slim is None:
            check_no_error(self.file)
            convert(config, files)
            slim = slim_notebook(self.content, self.file, files, alt)
            slim["title"] = self.title
            store_json(CACHE, key, slim)
        self.content = slim["content"]
        self.toc = get_toc(slim["toc"])
        self.title = slim["title"]
        self.notebook_files = slim["files"]

    page.render = types.MethodType(render, page)
    return page


def check_no_error(file):
    """A stored error is a failed run (the tests store only clean ones): it stops the build."""
    cells = json.loads(Path(file.abs_src_path).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                raise ValueError(f"{file.src_uri} stores an error: {output.get('ename')}")


def on_post_page(output, page, config):
    """Write a notebook's plot files beside its page (mkdocs-jupyter copies the .ipynb there)."""
    if is_notebook(page):
        folder = Path(page.file.abs_dest_path).parent
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in getattr(page, "notebook_files", {}).items():
            (folder / name).write_bytes(base64.b64decode(data))
    return output
