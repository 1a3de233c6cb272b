"""Shared plumbing of the browser tests: Debian's Chromium via Playwright, a local file server.

Playwright cannot download browsers here, so the tests launch /usr/bin/chromium. With CI=true
the browser tests never skip: a missing Playwright or Chromium fails them.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def unavailable(reason: str) -> None:
    """Fail in CI (the browser tests must run there), skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@contextmanager
def launched_chromium() -> Iterator[object]:
    """A headless Chromium browser (Playwright sync API), closed on exit."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 from a background thread; yields the base URL (no slash)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


#: Init script: records Content-Security-Policy violations of the page in window.__cspViolations
#: (Playwright runs init scripts before the page's own scripts, outside the page's policy).
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Watch:
    """What one page did that a test must refuse: console errors (Chromium reports CSP
    violations there too), page errors, failed requests and requests leaving ``allowed``.

    ``allowed(url) -> bool`` says whether a request stays inside the page's origin; data: and
    blob: URLs always do. Call :meth:`problems` at the end (it also reads the CSP probe).
    """

    def __init__(self, page, allowed) -> None:
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.requests: list[object] = []
        page.add_init_script(CSP_PROBE)
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        page.on("request", self._request)
        self._allowed = allowed

    def _request(self, request) -> None:
        self.requests.append(request)
        scheme = request.url.split(":", 1)[0]
        if scheme not in ("data", "blob") and not self._allowed(request.url):
            self.outside.append(request.url)

    def violations(self) -> list[str]:
        """The CSP violations the page reported (empty when the page is gone)."""
        try:
            return self.page.evaluate("() => window.__cspViolations || []")
        except Exception:  # noqa: BLE001 - a closed page has no more to say
            return []

    def problems(self) -> dict[str, list[str]]:
        """Everything that went wrong, by kind (all lists empty: the page behaved)."""
        return {"console errors": self.errors, "requests outside": self.outside,
                "CSP violations": self.violations()}
