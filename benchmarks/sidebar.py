"""The sidebar filter on the real portal pages: server-side time per page, and
in-browser time to the first hide.

Server side: :func:`sidebar.filter_page` in report mode and in remove mode
on each page of ``../shared/examples/real_pages`` (bytes as saved), with the
bundled model loaded once (one untimed call first); each page is filtered
``repeats`` times and its median taken. Reported: the median and the 95th percentile over the pages,
and the largest page's time.

In the browser: ``headline-sieve serve`` (1 worker) and a loopback portal
serve six real pages with ``sieve.js``; headless Chromium (Debian's, through
Selenium) opens each page ``repeats`` times. Measured in the page, from the
navigation's start (``performance.now()``): DOMContentLoaded, and the
``sieve:done`` event of the first scan, after which the bait items are
hidden (one untimed load first). Every other load of the page is blocked by a Content-Security-Policy
(no network here), so the figures are the script, the request with the
page's copy, the server's filtering and the hiding.
"""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.browser import CHROMEDRIVER, CHROMIUM, Portal, headless_chromium
from benchmarks.config import BenchConfig
from benchmarks.server import Server
from model import load_model
from sidebar import filter_page

log = logging.getLogger(__name__)

BROWSER_PAGES = ("gne__163_2.html", "gne__sina_sina.html", "gne__ifeng_ifeng.html",
                 "gne__thepaper_1.html", "gne__qq_2.html", "rdb__youth.html")
NONCE = "bench"
TIMING = (f'<script nonce="{NONCE}">document.addEventListener("sieve:done", function (e) '
          '{ if (!window.__first) { window.__first = {state: e.detail.state, '
          'at: performance.now(), bait: e.detail.bait}; } });'
          'document.addEventListener("DOMContentLoaded", function () '
          '{ window.__dcl = performance.now(); });</script>')


def _pages(config: BenchConfig) -> list[Path]:
    pages = sorted((config.data_dir.parent / "examples" / "real_pages").glob("*.html"))
    return pages[:3] if config.quick else pages


def server_side(config: BenchConfig) -> dict:
    """Per page and mode, the median seconds of ``filter_page``."""
    model = load_model()
    repeats = 1 if config.quick else 5
    pages = _pages(config)
    filter_page(pages[0].read_bytes(), model)  # untimed: builds the model's lookup tables
    per_page = {}
    for path in pages:
        raw = path.read_bytes()
        times = {}
        for mode in ("report", "remove"):
            runs = []
            for _ in range(repeats):
                started = time.perf_counter()
                filter_page(raw, model, mode=mode)
                runs.append(time.perf_counter() - started)
            times[mode] = statistics.median(runs)
        per_page[path.name] = {"bytes": len(raw), **{k: round(v * 1000, 2) for k, v in
                                                     times.items()}}
    largest = max(per_page, key=lambda name: per_page[name]["bytes"])
    summary = {}
    for mode in ("report", "remove"):
        values = np.array([page[mode] for page in per_page.values()])
        summary[mode] = {"median_ms": round(float(np.median(values)), 2),
                         "p95_ms": round(float(np.percentile(values, 95)), 2),
                         "largest_ms": per_page[largest][mode]}
    return {"repeats": repeats, "pages": per_page, "largest_page": largest,
            "largest_bytes": per_page[largest]["bytes"], "summary": summary}


def _portal_pages(base: str, pages: dict[str, Path]) -> dict[str, tuple[bytes, dict]]:
    """The pages with sieve.js injected before </body>, each with its CSP header."""
    policy = (f"default-src 'none'; script-src 'nonce-{NONCE}' {base}; "
              f"connect-src {base}; style-src 'unsafe-inline'")
    return {f"/{name}": (_with_script(path.read_bytes(), base),
                         {"Content-Security-Policy": policy}) for name, path in pages.items()}


def _with_script(raw: bytes, base: str) -> bytes:
    tag = (f'{TIMING}<script src="{base}/static/sieve.js" '
           f'data-endpoint="{base}/v1/filter" data-timeout="10000"></script>').encode()
    at = raw.lower().rfind(b"</body>")
    return raw[:at] + tag + raw[at:] if at >= 0 else raw + tag


def inheadless_chromium(config: BenchConfig) -> dict:
    """Per page, the median ms from navigation start to DOMContentLoaded and to
    the first scan's ``sieve:done``."""
    from selenium.webdriver.support.ui import WebDriverWait

    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return {"error": "Debian's chromium and chromium-driver are not installed"}
    folder = config.data_dir.parent / "examples" / "real_pages"
    names = BROWSER_PAGES[:1] if config.quick else BROWSER_PAGES
    repeats = 1 if config.quick else 5
    per_page = {}
    # CORS for any origin: both servers listen on loopback only.
    with Server(config.work_dir / "sidebar-home", workers=1,
                settings={"cors_origins": "*"}) as server, Portal() as portal:
        portal.pages.update(_portal_pages(server.url, {name: folder / name for name in names}))
        driver = headless_chromium(config.work_dir / "chromium-profile")
        try:
            driver.get(f"{portal.origin}/{names[0]}")  # untimed: warms the worker and browser
            WebDriverWait(driver, 30).until(lambda d: d.execute_script("return window.__first"))
            for name in names:
                runs = []
                for _ in range(repeats):
                    driver.get(f"{portal.origin}/{name}")
                    first = WebDriverWait(driver, 30).until(
                        lambda d: d.execute_script("return window.__first"))
                    runs.append((driver.execute_script("return window.__dcl"), first["at"],
                                 first["state"], first["bait"]))
                per_page[name] = {
                    "dom_content_loaded_ms": round(statistics.median(r[0] for r in runs), 1),
                    "first_hide_ms": round(statistics.median(r[1] for r in runs), 1),
                    "after_dom_ms": round(statistics.median(r[1] - r[0] for r in runs), 1),
                    "states": sorted({r[2] for r in runs}), "bait": runs[-1][3]}
        finally:
            driver.quit()
    values = [page["first_hide_ms"] for page in per_page.values()]
    return {"repeats": repeats, "pages": per_page,
            "median_first_hide_ms": round(statistics.median(values), 1),
            "median_after_dom_ms": round(statistics.median(
                page["after_dom_ms"] for page in per_page.values()), 1)}


def run(config: BenchConfig) -> dict:
    return {"server": server_side(config), "browser": inheadless_chromium(config)}
