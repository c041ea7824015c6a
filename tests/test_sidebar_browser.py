"""service/static/sieve.js in a real headless browser (Debian's chromium).

The real service runs as ``headline-sieve serve`` on a loopback port; a second
server on another loopback port plays the portal, whose page includes
``/static/sieve.js`` from the service (a cross-origin call, so CORS is on the
path). Checked, on the example page and on six real portal pages: the items
hidden are exactly those the server's own report of the page marks clickbait,
every other link stays as it was, items a feed appends later are filtered
too; the mark mode; and that the page shows everything, untouched, when the
service is stopped, refuses connections, or does not answer in time. Real
pages are served with a Content-Security-Policy that lets only sieve.js and
the test's listener run and blocks every other load (no network here), so
the browser's page is the page's markup. The test that stops the service
comes last in this file.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import requests
from helpers import free_port, server_process, stop_server
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from benchmarks.browser import Portal
from model import load_model
from sidebar import filter_page

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT.parent / "shared" / "examples" / "portal_page.html"
REAL_PAGES = ROOT.parent / "shared" / "examples" / "real_pages"
BROWSER_PAGES = ("gne__163_2.html", "gne__sina_sina.html", "gne__ifeng_ifeng.html",
                 "gne__thepaper_1.html", "gne__qq_2.html", "rdb__youth.html")
NONCE = "sieve-test"
KEPT_HOT = ("香港终审法院首席法官", "钦州港片区", "伍戈:人民币")
NEWS = ["省互联网产促会主席车敦安率队深入企业调研", "钦州港片区全力推进系统化集成式服务审批改革"]
BAIT = ["张若昀甜蜜表白唐艺昕:我爱她就像她爱我", "baby抹胸长裙大秀窈窕身材,肤白貌美,尽显女神风采"]
LISTENER = (f'<script nonce="{NONCE}">document.addEventListener("sieve:done", function (e) '
            '{ window.__sieve = e.detail; (window.__scans = window.__scans || []).push(e.detail); '
            '});</script>')


@pytest.fixture(scope="module")
def portal():
    with Portal() as server:
        yield server


@pytest.fixture(scope="module")
def service(tmp_path_factory, portal):
    home = tmp_path_factory.mktemp("home")
    with server_process(home, workers=1, env={"HEADLINE_SIEVE_CORS_ORIGINS": portal.origin}) as handle:
        yield {"base": handle.base, "server": handle}


def script_tag(base: str, endpoint: str | None = None, **attributes: str) -> str:
    extra = "".join(f' data-{name}="{value}"' for name, value in attributes.items())
    return (f'{LISTENER}<script src="{base}/static/sieve.js" '
            f'data-endpoint="{endpoint or base + "/v1/filter"}"{extra}></script>')


def example_page(tag: str) -> str:
    return EXAMPLE.read_text(encoding="utf-8").replace("</body>", tag + "\n</body>")


def marked_page(tag: str) -> str:
    lis = "".join(f'<li><a href="/m/{i}">{t}</a></li>' for i, t in enumerate(NEWS + BAIT))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
            f'<nav><a href="/">首页</a><a href="/gn">国内</a></nav>'
            f'<section data-sieve-block><h3>推荐</h3><ul>{lis}</ul></section>{tag}</body></html>')


def load(browser, url: str) -> dict:
    """Open ``url`` and wait for sieve.js to report (it always does)."""
    browser.get(url)
    return WebDriverWait(browser, 30).until(lambda d: d.execute_script("return window.__sieve"))


def items(browser) -> list[tuple[str, bool]]:
    """(text, displayed) of every list item of the page, in order."""
    return [(li.get_attribute("textContent").strip(), li.is_displayed())
            for li in browser.find_elements(By.TAG_NAME, "li")]


def bait_per_service(base: str, texts: list[str]) -> set[str]:
    answer = requests.post(f"{base}/v1/score", json={"headlines": texts}, timeout=30).json()
    return {r["headline"] for r in answer["results"] if r["label"] == "clickbait"}


def assert_untouched(browser) -> None:
    assert all(visible for _, visible in items(browser))
    assert browser.find_elements(By.CSS_SELECTOR, "[data-sieve], [data-sieve-hide], .sieve-clickbait") == []
    assert browser.execute_script(
        "return [...document.querySelectorAll('li')].every(li => !li.getAttribute('style'))")


def test_bait_items_hidden_others_visible(browser, portal, service):
    portal.pages["/news.html"] = example_page(script_tag(service["base"]))
    report = load(browser, f"{portal.origin}/news.html")
    shown = items(browser)
    assert report["state"] == "applied" and len(shown) == 30
    bait = bait_per_service(service["base"], [text for text, _ in shown])
    hidden = [text for text, visible in shown if not visible]
    assert bait and sorted(hidden) == sorted(bait) and report["bait"] == len(hidden)
    hot = [visible for text, visible in shown if text.startswith(KEPT_HOT)]
    assert hot == [True, True, True]
    for element_id in ("top-nav", "footer"):
        assert browser.find_element(By.ID, element_id).is_displayed()
    assert all(a.is_displayed() for a in browser.find_elements(By.CSS_SELECTOR, "#top-nav a"))


def test_mark_mode_on_a_marked_block(browser, portal, service):
    portal.pages["/marked.html"] = marked_page(script_tag(service["base"], mode="mark"))
    assert load(browser, f"{portal.origin}/marked.html")["state"] == "applied"
    assert all(visible for _, visible in items(browser))
    marked = [li.get_attribute("textContent") for li in
              browser.find_elements(By.CSS_SELECTOR, "li.sieve-clickbait[data-sieve=clickbait]")]
    assert marked == BAIT


def test_all_bait_marked_block_is_hidden_with_its_heading(browser, portal, service):
    lis = "".join(f'<li><a href="/b/{i}">{t}</a></li>' for i, t in enumerate(BAIT))
    portal.pages["/gossip.html"] = (
        f'<html><body><section id="gossip" data-sieve-block><h3>八卦</h3><ul>{lis}</ul></section>'
        f'<p id="after">正文</p>{script_tag(service["base"])}</body></html>')
    assert load(browser, f"{portal.origin}/gossip.html")["state"] == "applied"
    assert not browser.find_element(By.ID, "gossip").is_displayed()
    assert browser.find_element(By.ID, "after").is_displayed()


def test_refused_connection_leaves_the_page_untouched(browser, portal, service):
    closed = f"http://127.0.0.1:{free_port()}/v1/score"
    portal.pages["/refused.html"] = example_page(script_tag(service["base"], closed))
    assert load(browser, f"{portal.origin}/refused.html")["state"] == "failed"
    assert_untouched(browser)


def test_silent_service_times_out_and_leaves_the_page_untouched(browser, portal, service):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}/v1/score"
        portal.pages["/silent.html"] = example_page(
            script_tag(service["base"], endpoint, timeout="800"))
        assert load(browser, f"{portal.origin}/silent.html")["state"] == "failed"
        assert_untouched(browser)


# -- real portal pages ---------------------------------------------------------

VISIBLE_LINKS = """return [...document.querySelectorAll('a[href]')].map(a => [
    (a.textContent || '').replace(/\\s+/g, ' ').trim(),
    a.checkVisibility({checkVisibilityCSS: true}),
    !!a.closest('[data-sieve-hide]')]);"""
HIDDEN_ITEMS = """return [...document.querySelectorAll('[data-sieve-hide]')].map(e => e.tagName);"""


def real_page(name: str, base: str, endpoint: str | None = None, extra: str = ""
              ) -> tuple[bytes, dict]:
    """The page's bytes with sieve.js from ``base`` (calling ``endpoint``, default
    the service's /v1/filter) and ``extra`` markup before </body>, and a CSP that
    runs only that script and the test's nonce scripts and loads nothing else."""
    raw = (REAL_PAGES / name).read_bytes()
    endpoint = endpoint or f"{base}/v1/filter"
    tag = (f'{LISTENER}{extra}<script src="{base}/static/sieve.js" '
           f'data-endpoint="{endpoint}"></script>').encode()
    at = raw.lower().rfind(b"</body>")
    page = raw[:at] + tag + raw[at:] if at >= 0 else raw + tag
    connect = endpoint.split("/v1/")[0]
    policy = (f"default-src 'none'; script-src 'nonce-{NONCE}' {base}; connect-src {connect}; "
              "style-src 'unsafe-inline'")
    return page, {"Content-Security-Policy": policy}


def server_bait(name: str) -> tuple[set[str], set[str]]:
    """From the server's own filtering of the page bytes: the headline texts it
    marks clickbait, and the text of every link that its removal takes away
    (the bait items whole, and emptied blocks with their headings)."""
    from sidebar.blocks import find_blocks
    from sidebar.document import parse, visible_text

    raw = (REAL_PAGES / name).read_bytes()
    report = filter_page(raw, load_model()).report
    bait = {link["text"] for block in report["blocks"] for link in block["links"]
            if link["label"] == "clickbait"}
    removed = set()
    for block in find_blocks(parse(raw.decode("utf-8"))):
        items = [item for item in block.items if item.link.text in bait]
        elements = block.removal if len(items) == len(block.items) else [
            item.element for item in items]
        removed |= {visible_text(a) for element in elements for a in element.iter("a")}
    return bait, removed - {""}


def links_of(browser) -> list[tuple[str, bool, bool]]:
    return [tuple(row) for row in browser.execute_script(VISIBLE_LINKS)]


@pytest.mark.parametrize("name", BROWSER_PAGES)
def test_real_page_hides_what_the_server_marks_and_nothing_else(browser, portal, service, name):
    closed = f"http://127.0.0.1:{free_port()}"
    portal.pages[f"/down/{name}"] = real_page(name, closed)  # no script: the untouched page
    browser.get(f"{portal.origin}/down/{name}")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "return document.readyState") == "complete")
    before = links_of(browser)

    portal.pages[f"/up/{name}"] = real_page(name, service["base"])
    report = load(browser, f"{portal.origin}/up/{name}")
    after = links_of(browser)
    assert report["state"] == "applied"
    assert len(after) == len(before)  # nothing removed, nothing added
    bait, removable = server_bait(name)
    hidden = {text for text, visible, inside in after if inside and not visible and text}
    assert bait and bait <= hidden  # every bait headline of the server's report is hidden
    assert hidden <= removable  # and nothing the server's removal would keep
    for (text, was_visible, _), (text_after, visible, inside) in zip(before, after):
        assert text == text_after
        if not inside:
            assert visible == was_visible, text  # every other link as it was
    assert not {"HTML", "BODY", "HEAD"} & set(browser.execute_script(HIDDEN_ITEMS))


FEED = """<script nonce="{nonce}">
setTimeout(function () {{
  var list = document.querySelector({selector});
  {items}.forEach(function (text, i) {{
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = "/appended/" + i; a.textContent = text; li.appendChild(a); list.appendChild(li);
  }});
}}, 300);
</script>"""


def test_items_a_feed_appends_later_are_filtered(browser, portal, service):
    """A real page's related-news list gets bait and news items appended after
    load: the observer rescans, hides the bait, leaves the news."""
    name = "rdb__youth.html"
    extra = FEED.format(nonce=NONCE, selector=json.dumps(_feed_list_selector(name)),
                        items=json.dumps(BAIT + NEWS, ensure_ascii=False))
    portal.pages["/feed.html"] = real_page(name, service["base"], extra=extra)
    browser.get(f"{portal.origin}/feed.html")
    WebDriverWait(browser, 30).until(lambda d: len(d.execute_script(
        "return window.__scans || []")) >= 2)
    scans = browser.execute_script("return window.__scans")
    assert [s["state"] for s in scans[:2]] == ["applied", "applied"]
    appended = {row[0]: (row[1], row[2]) for row in links_of(browser) if row[0] in BAIT + NEWS}
    assert all(appended[text] == (False, True) for text in BAIT), appended
    assert all(appended[text] == (True, False) for text in NEWS), appended


def _feed_list_selector(name: str) -> str:
    """A CSS selector of the first ``<ul>`` that the server reports as a block."""
    from sidebar.blocks import find_blocks
    from sidebar.document import parse

    root = parse((REAL_PAGES / name).read_bytes().decode("utf-8"))
    container = next(b.container for b in find_blocks(root) if b.container.tag == "ul")
    path = []
    for node in [container, *container.iterancestors()]:
        if node.tag in ("html", "body"):
            break
        same = [c for c in node.getparent() if c.tag == node.tag]
        path.append(f"{node.tag}:nth-of-type({same.index(node) + 1})")
    return "body > " + " > ".join(reversed(path))


def test_real_page_stays_usable_when_the_service_is_down(browser, portal, service):
    name = BROWSER_PAGES[0]
    portal.pages["/unreachable.html"] = real_page(
        name, service["base"], endpoint=f"http://127.0.0.1:{free_port()}/v1/filter")
    assert load(browser, f"{portal.origin}/unreachable.html")["state"] == "failed"
    assert browser.find_elements(By.CSS_SELECTOR, "[data-sieve], [data-sieve-hide]") == []
    assert browser.find_elements(By.CSS_SELECTOR, "style[data-sieve-style]") == []


# -- last: this test stops the service ------------------------------------------

def test_stopped_service_page_shows_everything(browser, portal, service):
    portal.pages["/down.html"] = example_page(script_tag(service["base"]))
    assert load(browser, f"{portal.origin}/down.html")["state"] == "applied"
    stop_server(service["server"])
    browser.get(f"{portal.origin}/down.html")
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.execute_script("return window.__sieve") is None  # the script never loaded
    shown = items(browser)
    assert len(shown) == 30
    assert_untouched(browser)
