"""Headless Chromium through Selenium: Debian's chromium and chromium-driver
(``make test`` and ``make bench`` install them). Used by the sidebar
benchmark and by the browser tests."""

from __future__ import annotations

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
