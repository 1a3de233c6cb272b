"""Small HTML builders for the pages. Every text that comes from data is escaped here."""

from __future__ import annotations

import html
from typing import Any

from IPython.display import HTML


def esc(text: Any) -> str:
    """``text`` escaped for HTML element content and attribute values."""
    return html.escape(str(text), quote=True)


def block(markup: str) -> HTML:
    """A cell output that MyST-NB writes verbatim."""
    return HTML(markup)


def badge(tier: str) -> str:
    """A tier's name in its colour (the colours come from the generated tier stylesheet)."""
    return f'<span class="c2c-tier c2c-tier-{esc(tier)}">{esc(tier)}</span>'


def paragraphs(texts: list[str], css: str = "") -> str:
    """Each text as an escaped paragraph."""
    cls = f' class="{esc(css)}"' if css else ""
    return "".join(f"<p{cls}>{esc(t)}</p>" for t in texts)


def bullet_list(items: list[str], css: str = "") -> str:
    """An escaped bullet list."""
    cls = f' class="{esc(css)}"' if css else ""
    return f"<ul{cls}>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def table(header: list[str], rows: list[list[str]], caption: str, css: str = "",
          raw_columns: tuple[int, ...] = ()) -> str:
    """A table with a caption (every cell escaped but the ``raw_columns``, already HTML) in a
    scrolling wrapper; the site's script adds a CSV download to it."""
    head = "".join(f"<th scope=\"col\">{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if i in raw_columns else esc(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return (f'<div class="c2c-table-wrap"><table class="c2c-table table {esc(css)}">'
            f"<caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")
