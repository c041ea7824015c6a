"""The issue's acceptance criteria on shared/examples/portal_page.html, through
the installed ``headline-sieve filter`` command and through ``POST /v1/filter``.

In ``remove`` mode all ten 推荐阅读 and all 最新更新 items remain, the three
substantive 热门点击 items remain, the seven gossip/fashion items are gone,
and navigation, article and footer are unchanged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT.parent / "shared" / "examples" / "portal_page.html"
CLI = Path(sys.executable).with_name("headline-sieve")
KEPT_HOT = ("香港终审法院首席法官", "钦州港片区", "伍戈:人民币")
UNCHANGED = ("//div[@id='top-nav']", "//div[@class='crumbs']", "//div[@class='article']",
             "//div[@id='footer']", "//head")


def sidebar_items(html: bytes) -> dict[str, list[str]]:
    """Heading -> item texts of each side box."""
    root = lxml.html.document_fromstring(html)
    return {box.findtext(".//h3"): [li.text_content().strip() for li in box.iter("li")]
            for box in root.xpath("//div[contains(@class, 'side-box')]")}


def fragments(html: bytes) -> list[str]:
    root = lxml.html.document_fromstring(html)
    return [lxml.html.tostring(root.xpath(path)[0], encoding="unicode") for path in UNCHANGED]


def filter_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "filter", *args], input=stdin, capture_output=True,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def original() -> bytes:
    return EXAMPLE.read_bytes()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from service.app import create_app
    from service.config import load_settings

    settings = load_settings({"home": tmp_path_factory.mktemp("home"), "warm_up": False},
                             environ={})
    return create_app(settings).test_client()


def via_cli(original: bytes, mode: str) -> bytes:
    done = filter_cli(str(EXAMPLE), "--mode", mode)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def via_endpoint(client, original: bytes, mode: str) -> bytes:
    response = client.post(f"/v1/filter?mode={mode}", data=original,
                           content_type="text/html")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


@pytest.fixture(scope="module", params=["cli", "endpoint"])
def removed(request, original) -> bytes:
    if request.param == "cli":
        return via_cli(original, "remove")
    return via_endpoint(request.getfixturevalue("client"), original, "remove")


def expected_remaining(original: bytes) -> dict[str, list[str]]:
    items = sidebar_items(original)
    items["热门点击"] = [t for t in items["热门点击"] if t.startswith(KEPT_HOT)]
    return items


def test_example_page_shape(original):
    items = sidebar_items(original)
    assert [len(v) for v in items.values()] == [10, 10, 10]
    assert len(expected_remaining(original)["热门点击"]) == 3


def test_remove_keeps_every_substantive_item(original, removed):
    kept = sidebar_items(removed)
    for heading, texts in expected_remaining(original).items():
        missing = [t for t in texts if t not in kept.get(heading, [])]
        assert not missing, f"{heading}: substantive items removed: {missing}"


def test_remove_drops_the_seven_gossip_items(original, removed):
    gossip = [t for t in sidebar_items(original)["热门点击"] if not t.startswith(KEPT_HOT)]
    assert len(gossip) == 7
    left = [t for t in gossip if t in sidebar_items(removed).get("热门点击", [])]
    assert not left, f"gossip items the model kept: {left}"


def test_remove_leaves_navigation_article_and_footer_alone(original, removed):
    assert fragments(removed) == fragments(original)
    head, tail = original.split(b'<div id="sidebar">')[0], original.split(b'<div id="footer">')[1]
    assert removed.startswith(head) and removed.endswith(tail)  # byte for byte


def test_remove_only_deletes_item_lines(original, removed):
    kept_lines = removed.splitlines(keepends=True)
    gone = [line for line in original.splitlines(keepends=True) if line not in kept_lines]
    assert all(line.lstrip().startswith(b"<li>") for line in gone)
    assert b"".join(line for line in original.splitlines(keepends=True)
                    if line not in gone) == removed


def test_report_mode_from_stdin(original):
    done = filter_cli("-", stdin=original)
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert [b["heading"] for b in report["blocks"]] == ["推荐阅读", "最新更新", "热门点击"]
    assert report["encoding"] == "utf-8"
    hot = report["blocks"][2]["links"]
    assert [link["href"] for link in hot] == [f"/rm/{n:04d}.html" for n in range(1, 11)]
    assert {link["label"] for link in hot} <= {"clickbait", "substantive"}


def test_mark_mode_marks_list_items_and_removes_nothing(original, client):
    for marked_page in (via_cli(original, "mark"), via_endpoint(client, original, "mark")):
        root = lxml.html.document_fromstring(marked_page)
        marked = root.xpath("//li[@data-sieve='clickbait']")
        assert marked and all("sieve-clickbait" in li.get("class").split() for li in marked)
        assert sidebar_items(marked_page) == sidebar_items(original)
        assert fragments(marked_page) == fragments(original)


def test_cli_and_endpoint_agree(original, client):
    for mode in ("remove", "mark"):
        assert via_cli(original, mode) == via_endpoint(client, original, mode)
    from_cli = json.loads(via_cli(original, "report"))
    from_endpoint = json.loads(via_endpoint(client, original, "report"))
    assert from_cli == from_endpoint


def test_threshold_one_keeps_the_page_byte_for_byte(original):
    done = filter_cli(str(EXAMPLE), "--mode", "remove", "--threshold", "1")
    assert done.returncode == 0 and done.stdout == original


@pytest.mark.parametrize("args, message", [
    (["/no/such/page.html"], "no such file"),
    (["--threshold", "1.5", str(EXAMPLE)], "between 0 and 1"),
    (["--model", "/no/such/model", str(EXAMPLE)], "not a model directory"),
])
def test_errors_are_one_line(args, message):
    done = filter_cli(*args)
    assert done.returncode != 0
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_empty_stdin_is_an_error():
    done = filter_cli(stdin=b"")
    assert done.returncode != 0 and b"empty" in done.stderr


def as_gbk(page: bytes) -> bytes:
    text = page.decode("utf-8").replace('<meta charset="utf-8">', '<meta charset="gbk">')
    return text.encode("gbk", errors="xmlcharrefreplace")  # the page has a U+00A0


def test_gbk_version_of_the_page_comes_back_in_gbk(original):
    done = filter_cli("--mode", "remove", stdin=as_gbk(original))
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == as_gbk(via_cli(original, "remove"))
