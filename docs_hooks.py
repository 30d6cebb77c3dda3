"""MkDocs hook: let mkdocs-static-i18n treat notebooks as pages.

mkdocs-static-i18n only localizes documentation pages, and MkDocs counts only Markdown files as
such, so a notebook was copied as a raw file (its JSON served as the page) and the English copy
went missing (mkdocs-static-i18n issue 198). Counting `.ipynb` as a page source fixes both;
mkdocs-jupyter then renders each language's notebook.
"""

import mkdocs.utils

if ".ipynb" not in mkdocs.utils.markdown_extensions:
    mkdocs.utils.markdown_extensions = (*mkdocs.utils.markdown_extensions, ".ipynb")
