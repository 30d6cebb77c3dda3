"""MkDocs hook: a notebook (`.ipynb`) is a page, rendered from its stored outputs.

Nothing is executed or timed at build time: tests/test_notebook.py runs the notebooks and
`pytest --update-examples` stores their outputs in the .ipynb. This hook turns the notebook into
the Markdown a page of this site is written in, so that the site's own Markdown pipeline renders
it exactly like every other page (Material's code blocks and copy button, heading permalinks,
table of contents, search):

- a Markdown cell is Markdown; a heading's `<a id="x"></a>` (an anchor Jupyter shows nowhere)
  becomes the `{ #x }` id every Markdown page gives its headings, identical in both languages;
- a code cell is a ```python block; its outputs follow it: a `text/markdown` result as Markdown
  (the results table), text as a ```text block, an SVG plot as a file beside the page
  (`experiment-1.svg`, loaded lazily, its size reserved);
- the .ipynb itself is copied beside the page, for the download button (overrides/partials/
  actions.html shows it when `page.nb_url` is set).

This replaces mkdocs-jupyter, which cost about 3 s of every build and rebuild (1.2 s to import
nbconvert, then an HTML and a Markdown conversion of each notebook; its cache does not survive
mkdocs-static-i18n, whose second-language build evicts the first language's entries), inlined
JupyterLab's stylesheet and scripts, and gave Korean headings no usable id.
"""

import json
import re
import shutil
import sys
from pathlib import Path

import jinja2
import mkdocs.utils

# MkDocs counts only Markdown files as pages; counting `.ipynb` too makes a notebook a page that
# mkdocs-static-i18n localizes like the others (each language's folder has its own notebook).
if ".ipynb" not in mkdocs.utils.markdown_extensions:
    mkdocs.utils.markdown_extensions = (*mkdocs.utils.markdown_extensions, ".ipynb")

HEADING_ANCHOR = re.compile(r'^(#{1,6} .*?) *<a id="([^"]+)"></a> *$', re.M)
PLOT_ALT = {
    "ko": "N에 따른 네 가지 방법의 총 시간 그래프",
    "en": "Total time against N for the four ways",
}


def joined(value):
    """A notebook's multi-line string: a list of lines, or one string."""
    return value if isinstance(value, str) else "".join(value)


def fence(language, text):
    ticks = "`" * max([3, *(len(m) + 1 for m in re.findall(r"`{3,}", text))])
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}"


def svg_img(data, name, alt):
    """An <img> for an SVG file, its width and height from the viewBox (matplotlib's points,
    as CSS pixels: 96 / 72), so the space is reserved before the lazy file arrives."""
    size = ""
    box = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', data)
    if box:
        width, height = (round(float(v) * 4 / 3) for v in box.groups())
        size = f' width="{width}" height="{height}"'
    return f'<img alt="{alt}" src="{name}" loading="lazy"{size}>'


def notebook_markdown(text, stem, alt):
    """(Markdown, {file name: content}) for a notebook's JSON text."""
    blocks, files = [], {}
    for cell in json.loads(text)["cells"]:
        source = joined(cell["source"])
        if cell["cell_type"] == "markdown":
            blocks.append(HEADING_ANCHOR.sub(r"\1 { #\2 }", source).rstrip())
            continue
        if cell["cell_type"] != "code":
            continue
        blocks.append(fence("python", source))
        for output in cell.get("outputs", []):
            kind = output["output_type"]
            if kind == "stream":
                blocks.append(fence("text", joined(output["text"])))
            elif kind == "error":  # a stored failure is a bug: the test stores only clean runs
                raise ValueError(f"{stem}.ipynb stores an error: {output.get('ename')}")
            else:  # execute_result, display_data: the richest format this site can show
                data = output.get("data", {})
                if "image/svg+xml" in data:
                    name = f"{stem}-{len(files) + 1}.svg"
                    files[name] = joined(data["image/svg+xml"])
                    blocks.append(svg_img(files[name], name, alt))
                elif "text/markdown" in data:
                    blocks.append(joined(data["text/markdown"]))
                elif "text/plain" in data:
                    blocks.append(fence("text", joined(data["text/plain"])))
    return "\n\n".join(blocks) + "\n", files


def on_page_read_source(page, config):
    if not page.file.src_uri.endswith(".ipynb"):
        return None
    stem = Path(page.file.src_uri).stem
    text = Path(page.file.abs_src_path).read_text(encoding="utf-8")
    alt = PLOT_ALT["ko" if config.theme["language"] == "ko" else "en"]
    markdown, page.notebook_files = notebook_markdown(text, stem, alt)
    page.nb_url = Path(page.file.src_uri).name  # beside the page: experiment/experiment.ipynb
    return markdown


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
    return config


def cache_installed_template_listings():
    """List an installed theme's files once per process.

    Every build lists every file of every theme folder, twice per language (MkDocs looks for
    static files, search_hooks.py for lunr's languages); Material's folder holds some 14,000
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


def on_post_page(output, page, config):
    """Write the plot files and the notebook itself beside the page."""
    if page.file.src_uri.endswith(".ipynb"):
        folder = Path(page.file.abs_dest_path).parent
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in getattr(page, "notebook_files", {}).items():
            (folder / name).write_text(content, encoding="utf-8")
        shutil.copyfile(page.file.abs_src_path, folder / Path(page.file.src_uri).name)
    return output
