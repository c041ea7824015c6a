"""Headless Chromium through Selenium: Debian's chromium and chromium-driver
(``make test`` and ``make bench`` install them). Used by the sidebar
benchmark and by the browser tests."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage")


def headless_chromium(profile: Path):
    """A new Selenium Chrome driver on headless Chromium with its profile in
    ``profile`` (a fresh folder); the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


class Portal:
    """A static server on loopback serving pages from a dict (path -> HTML, or
    path -> (bytes, extra headers))."""

    def __init__(self) -> None:
        self.pages: dict[str, str | tuple[bytes, dict]] = {}
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                page = pages.get(self.path, "not found")
                body, headers = (page.encode("utf-8"), {}) if isinstance(page, str) else page
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Portal":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
