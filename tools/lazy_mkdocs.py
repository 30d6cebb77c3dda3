"""`mkdocs`, with mkdocs-jupyter's converter imported when a notebook is converted, not before.

`nox -s docs`, `nox -s serve` and the tests run MkDocs through this file:
`python tools/lazy_mkdocs.py build --strict` is `mkdocs build --strict`, with the same output.

Why: MkDocs imports every plugin while it reads mkdocs.yml, and mkdocs-jupyter's plugin module
imports jupytext and its converter (nbconvert, which lists and configures all its exporters as
it is imported): 1.3 s of a 3.9 s build on a 2-CPU machine. A build whose notebooks are
unchanged converts nothing (hooks/notebook_pages.py keeps each converted notebook), so those
modules are given to the plugin unexecuted (the standard library's `importlib.util.LazyLoader`)
and run on first use: when a notebook is converted, or a page is checked with jupytext.
tests/test_hooks.py checks that a build through this file leaves nbconvert unimported and
writes the same site as plain `mkdocs`.
"""

import importlib.abc
import importlib.util
import sys

LAZY = ("jupytext", "mkdocs_jupyter.convert")


class LazyFinder(importlib.abc.MetaPathFinder):
    """Find LAZY's modules as usual, then wrap their loader in a LazyLoader."""

    def find_spec(self, name, path, target=None):
        if name not in LAZY:
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None and spec.loader is not None:
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                    return spec
        return None


def main():
    sys.meta_path.insert(0, LazyFinder())
    from mkdocs.__main__ import cli

    cli(prog_name="mkdocs")


if __name__ == "__main__":
    main()
