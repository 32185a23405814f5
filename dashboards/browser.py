"""Open dashboards in headless Chromium (playwright driving the system's browser).

Used by the tests and ``scripts/screenshot_dashboards.py``. playwright cannot download its own
browser here: it drives the Debian package's (``apt-get install -y chromium``), at
``/usr/bin/chromium`` unless ``POCMON_CHROMIUM`` names another. playwright is a test
dependency, imported only when a browser is opened.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
]
# Every chart drawn: plotly.js has laid each graph div out and drawn its SVG.
CHARTS_DRAWN = """() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  return divs.every(d => d._fullLayout && d.querySelector('.main-svg'));
}"""


def chromium_path() -> str | None:
    """The Chromium to drive, or None when there is none."""
    wanted = os.environ.get("POCMON_CHROMIUM") or DEFAULT_CHROMIUM
    if Path(wanted).is_file():
        return wanted
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Visit:
    """What happened while a page was open."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@contextmanager
def browser(width: int = 1280, height: int = 900) -> Iterator:
    """A playwright browser context on the system Chromium."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError(f"no Chromium at {DEFAULT_CHROMIUM}: apt-get install -y chromium "
                           "(or set POCMON_CHROMIUM)")
    with sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            context = chrome.new_context(viewport={"width": width, "height": height},
                                         locale="en-GB", service_workers="block")
            yield context
            context.close()
        finally:
            chrome.close()


def open_page(context, path: Path, *, timeout_ms: int = 30_000):
    """Open a local HTML file, record console errors, requests and dialogs, wait until every
    chart is drawn; return (page, Visit). Dialogs are dismissed."""
    url = Path(path).resolve().as_uri()
    visit = Visit(url)
    page = context.new_page()
    page.on("console", lambda m: visit.console_errors.append(m.text)
            if m.type in ("error", "assert") else None)
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
    page.on("request", lambda r: visit.requests.append(r.url))

    def on_dialog(dialog) -> None:
        visit.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="load", timeout=timeout_ms)
    page.wait_for_function(CHARTS_DRAWN, timeout=timeout_ms)
    return page, visit
