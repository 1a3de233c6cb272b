"""The Content-Security-Policy every page carries: the site's own scripts and styles only.

Sphinx and the PyData theme write a few small inline scripts (the colour mode, the page name);
each one is allowed by its sha256 hash, computed from the page as built, so nothing else that
is inline can run: no injected script, no inline event handler. Charts are JSON data blocks
(``type="application/json"``, never executed) drawn by ``_static/c2c-charts.js``; Vega runs
without ``eval`` (its expression interpreter). Nothing may load from another origin.
The policy is a ``<meta http-equiv>`` so that it also holds when the site is opened from disk.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

#: Everything but scripts: the site's own files, images drawn in the page (PNG export uses
#: data: and blob: URLs), no plugins, no forms, no base rewriting.
BASE = ("default-src 'none'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
        "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'none'")
#: Inline ``<script>`` blocks that run: no ``src`` and no data-only type.
_INLINE = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\btype=\"application/(?:ld\+)?json\")"
                     r"[^>]*>(.*?)</script>", re.S)
_HEAD = re.compile(r"<head[^>]*>", re.I)


def policy(inline_scripts: list[str]) -> str:
    """The policy allowing the site's own script files and exactly these inline scripts."""
    hashes = sorted({"'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest())
                     .decode("ascii") + "'" for s in inline_scripts})
    return f"{BASE}; script-src 'self' {' '.join(hashes)}".rstrip()


def secure_page(html: str) -> str:
    """``html`` with its policy as the first element of ``<head>``."""
    meta = (f'<meta http-equiv="Content-Security-Policy" '
            f'content="{policy(_INLINE.findall(html))}">')
    head = _HEAD.search(html)
    if head is None:
        raise ValueError("a page without <head> cannot carry its policy")
    return html[:head.end()] + "\n    " + meta + html[head.end():]


def secure_site(folder: Path) -> int:
    """Add the policy to every HTML page under ``folder``; returns how many pages."""
    folder = Path(folder)
    pages = sorted(p for p in folder.rglob("*.html")
                   if not p.relative_to(folder).parts[0].startswith("_"))  # not _static/
    for page in pages:
        page.write_text(secure_page(page.read_text(encoding="utf-8")), encoding="utf-8")
    return len(pages)
