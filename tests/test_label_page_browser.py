"""The editors' labelling page (/label) in real headless Chromium, keyboard only.

The real service runs as ``headline-sieve serve`` (labels mode, the
corpora's unlabeled pool available). An editor signs in with a token,
labels with C / S, skips with X, undoes with U, reloads the page halfway,
retrains, promotes the candidate and rolls back. Checked against the API:
every label the keys gave is stored once, with the page as its source,
nothing that was undone is, none is lost by the reload; the token appears in
no URL and in no log line; the retrain's comparison is shown and its
buttons act on the registry.
"""

from __future__ import annotations

import time

import requests
from helpers import auth, create_token, server_process
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from training.locations import data_dir

# Labels, a label undone right away (c u), a skip undone (x u); a reload after 10 keys.
KEYS = "ccscuscxucsccsscsccs"


def text_of(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).get_attribute("textContent").strip()


def press(browser, key: str) -> None:
    ActionChains(browser).send_keys(key).perform()


def wait_for_headline(browser, previous: str | None = None) -> str:
    def ready(driver):
        text = text_of(driver, "headline")
        return text if text and text != previous else False
    return WebDriverWait(browser, 30).until(ready)


def stored_labels(base: str, token: str) -> list[dict]:
    return requests.get(f"{base}/v1/labels", params={"limit": 1000}, headers=auth(token),
                        timeout=30).json()["labels"]


def test_an_editor_labels_retrains_promotes_and_rolls_back(tmp_path, browser):
    home = tmp_path / "home"
    home.mkdir()
    token = create_token(home)
    env = {"HEADLINE_SIEVE_DATA": str(data_dir()), "HEADLINE_SIEVE_RETRAIN_MODE": "labels"}
    with server_process(home, workers=1, env=env) as server:
        base = server.base
        browser.get(f"{base}/label")
        field = browser.find_element(By.ID, "token")
        assert browser.switch_to.active_element == field  # focus starts in the form
        field.send_keys(token + Keys.ENTER)
        shown = wait_for_headline(browser)
        assert "p_clickbait" in text_of(browser, "score")
        assert browser.find_elements(By.CSS_SELECTOR, "#ngrams li")

        expected: dict[str, str] = {}
        trail: list[tuple[str, str]] = []  # (headline, key) of every decision
        for number, key in enumerate(KEYS):
            if number == 10:  # reload halfway: waiting labels must survive it
                browser.refresh()
                shown = wait_for_headline(browser)
            if key == "u":
                headline, undone = trail.pop()
                if undone != "x":
                    del expected[headline]
                press(browser, "u")
                shown = WebDriverWait(browser, 10).until(
                    lambda d: text_of(d, "headline") == headline and headline)
                continue
            press(browser, key)
            trail.append((shown, key))
            if key != "x":
                expected[shown] = "clickbait" if key == "c" else "substantive"
            shown = wait_for_headline(browser, previous=shown)

        deadline = time.monotonic() + 30  # the page sends within 3 s of the last label
        while len(stored_labels(base, token)) < len(expected):
            assert time.monotonic() < deadline, stored_labels(base, token)
            time.sleep(0.3)
        stored = stored_labels(base, token)
        assert {row["headline"]: row["label"] for row in stored} == expected
        assert len(stored) == len(expected) and {row["source"] for row in stored} == {"label-page"}
        assert token not in browser.current_url

        active_before = requests.get(f"{base}/v1/models", timeout=30).json()["active"]
        browser.find_element(By.ID, "retrain").send_keys(Keys.ENTER)
        WebDriverWait(browser, 120).until(
            lambda d: d.find_element(By.ID, "comparison").is_displayed())
        decision = text_of(browser, "decision")
        assert decision.startswith(("promoted", "undecided")), decision
        assert len(browser.find_elements(By.CSS_SELECTOR, "#metrics tr")) == 2
        if decision.startswith("undecided"):  # too few held-out labels: promote by hand
            assert "not enough held-out labels" in decision
            browser.find_element(By.ID, "promote").send_keys(Keys.ENTER)
            WebDriverWait(browser, 30).until(lambda d: "promoted:" in text_of(d, "decision"))
        candidate = requests.get(f"{base}/v1/models", timeout=30).json()["active"]
        assert candidate != active_before
        browser.find_element(By.ID, "rollback").send_keys(Keys.ENTER)
        WebDriverWait(browser, 30).until(lambda d: "rolled back:" in text_of(d, "decision"))
        assert requests.get(f"{base}/v1/models", timeout=30).json()["active"] == active_before
        log = server.log_text()
    assert token not in log
