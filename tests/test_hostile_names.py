"""A hostile input file name reaches every page as text, never as markup.

Two builds of synthetic users from files whose names carry HTML and a backtick (the name that
once broke out of a Markdown code span and ran a handler on What changed): the first puts the
name on Data & quality and Method, the second also on What changed (the previous release's
input, read back from the history snapshot). In Chromium no page may hold an element with an
``on*`` attribute, open a dialog, or run script; the name must show as literal text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.publishing.build import build
from analysis.publishing.release import Home
from tests.browser import Watch
from tests.synthetic import make_users, write_csv

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PAYLOAD = "x`<img src=x onerror=alert(document.domain)>`"


@pytest.fixture(scope="module")
def hostile_site(fast_config, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    home = Home(folder / "project")
    for seed, suffix in ((21, "a"), (22, "b")):
        data = write_csv(make_users(1500, seed=seed), folder / f"{PAYLOAD}{suffix}.csv")
        build(data, fast_config, home, log=lambda *_: None)
    return home.site


def test_no_page_holds_an_event_handler_attribute(hostile_site):
    handler = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
    for page in sorted(hostile_site.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert not handler.search(text), f"{page.name} holds an on* attribute"
        assert "<img src=x" not in text, f"{page.name} holds the raw payload"


@pytest.mark.parametrize("name", ["data", "method", "changes"])
def test_the_name_shows_as_text_and_runs_nothing(name, hostile_site, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        watch = Watch(page, lambda url: url.startswith("file://"))
        page.goto((hostile_site / f"{name}.html").as_uri(), wait_until="load")
        page.wait_for_timeout(500)
        assert dialogs == []
        handlers = page.evaluate("""() => [...document.querySelectorAll('*')].filter(el =>
            [...el.attributes].some(a => a.name.startsWith('on'))).length""")
        assert handlers == 0
        assert PAYLOAD in page.locator("main").inner_text(), f"{name} does not show the name"
        assert watch.problems()["console errors"] == []
    finally:
        context.close()
