"""Serve a folder on localhost and load its pages in headless Chromium, recording everything.

Debian's chromium (`make browser-deps`) is driven through playwright's `executable_path`:
`playwright install`, which downloads a browser, is never needed.

    with serve(folder) as base, chromium() as browser:
        visit = load(browser, f"{base}/index.html")
        assert not visit.outside and not visit.errors

pytest imports this module because tests/ has no __init__.py (see labcells.py).
"""

import functools
import http.server
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
# No background traffic of the browser's own (updates, sync, QUIC probes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(folder: Path):
    """An HTTP server on a free localhost port for `folder`; yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """One page loaded: what it asked for outside localhost, and what went wrong in it."""
    page: object
    outside: list[str] = field(default_factory=list)  # URLs of requests to other hosts
    errors: list[str] = field(default_factory=list)  # console errors, uncaught exceptions
    failed: list[str] = field(default_factory=list)  # local requests that failed (404...)


def _local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in LOCAL_HOSTS


def open_page(browser, width: int = 1280, height: int = 800) -> Visit:
    """A new page whose requests and errors are recorded from its first byte."""
    page = browser.new_page(viewport={"width": width, "height": height})
    visit = Visit(page)

    def on_request(request):
        if not _local(request.url):
            visit.outside.append(request.url)

    def on_response(response):
        if response.status >= 400:
            visit.failed.append(f"{response.status} {response.url}")

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("requestfailed", lambda r: visit.failed.append(f"failed {r.url}")
            if _local(r.url) else None)
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    # Anything outside is refused before it leaves: a test must not depend on the network.
    page.route(lambda url: not _local(url), lambda route: route.abort())
    return visit


def load(browser, url: str, **viewport) -> Visit:
    visit = open_page(browser, **viewport)
    visit.page.goto(url, wait_until="networkidle")
    return visit


BROKEN_IMAGES = """() => Array.from(document.images)
    .filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.src.slice(0, 80))"""
