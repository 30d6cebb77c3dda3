"""MkDocs hook: markup Material's script would otherwise add to every page as it loads.

- Tables: Material's script takes each `<table>` of the page out and puts it back inside two
  wrapping `<div>`s (mountDataTable in Material's components/content/table). Each move makes the
  browser restyle the whole article: 700 ms of the exceptions page's main thread on Lighthouse's
  throttled phone, the largest cost left on any page. The wrapping is written here instead, and
  the table gets the class `site-table` (Material wraps only tables without a class);
  docs/assets/site.css gives `table.site-table` Material's own table style, and a browser test
  checks it is the style Material gives a table without a class.
- Code blocks: a block wider than the screen must be reachable by keyboard, so Material gives it
  `tabindex="0"` when it mounts the block; this site mounts blocks as they scroll into view
  (`content.lazy`, mkdocs.yml), so every block starts with it, and Material removes it again
  from a block that does not overflow.
"""

import re

TABLE = re.compile(r"<table>(.*?)</table>", re.S)
CODE = re.compile(r"(<pre[^>]*>(?:<span></span>)?)<code>")


def on_page_content(html, page, config, files):
    html = TABLE.sub(
        r'<div class="md-typeset__scrollwrap"><div class="md-typeset__table">'
        r'<table class="site-table">\1</table></div></div>',
        html,
    )
    return CODE.sub(r'\1<code tabindex="0">', html)
