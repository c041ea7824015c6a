"""The sidebar filter on the 18 real portal pages of ../shared/examples/real_pages.

The truth is in tests/fixtures/real_pages/<page>.json, written by looking at
each page (not from the detector's output): the headline blocks a reader
sees (heading, kind, number of headline links, first and last link text, an
XPath of the block's container) and the link groups a detector must leave
alone. Figures asserted (issue 10):

- every page's charset read right (four are UTF-8 but declare gb2312), and a
  GBK copy of every page filtered exactly like the page;
- coverage, the share of a page's policy-labelled headlines
  (policy_gold/dev.tsv) among the links of the reported blocks: >= 0.95 over
  the 18 pages (0.98 today), no page below 0.80 (0.90 today; thepaper's two
  misses are reader comments, which the labellers labelled too);
- no reported link outside a reader-visible headline block (navigation,
  footers, article bodies, comments): 0 today, target 0;
- the fixture blocks found (first and last link in one reported block):
  >= 85% (116 of 133 whose items are links); of those, the link count right
  for >= 80% (110) and the heading right for >= 50% (72; tab labels and
  heading bars that hold more than a title are read unevenly).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest

from model.normalize import normalize
from sidebar import filter_page
from sidebar.blocks import find_blocks
from sidebar.document import parse
from sidebar.encoding import decode, detect
from training.locations import data_dir

PAGES = data_dir().parent / "examples" / "real_pages"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real_pages"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
MISDECLARED = {"gne__people_1", "gne__qq_2", "gne__hexun_1", "rdb__qq"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def squash(text: str | None) -> str:
    return "".join((text or "").split())


@pytest.fixture(scope="module")
def detected() -> dict[str, tuple]:
    """Per page: (parsed root, blocks found)."""
    found = {}
    for name in NAMES:
        raw = (PAGES / f"{name}.html").read_bytes()
        root = parse(decode(raw, detect(raw))[0])
        found[name] = (root, find_blocks(root))
    return found


@pytest.fixture(scope="module")
def labelled() -> dict[str, list[str]]:
    """Per page: its headlines labelled in policy_gold/dev.tsv (normalised)."""
    headlines = defaultdict(list)
    with open(data_dir() / "policy_gold" / "dev.tsv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if "real_pages/" in row["origin"]:
                headlines[Path(row["origin"]).stem].append(normalize(row["headline"]))
    return headlines


def test_there_is_a_fixture_for_every_page():
    assert NAMES == sorted(p.stem for p in PAGES.glob("*.html")) and len(NAMES) == 18


@pytest.mark.parametrize("name", NAMES)
def test_charset_is_read_right(name):
    raw = (PAGES / f"{name}.html").read_bytes()
    found = detect(raw)
    assert found.codec == fixture(name)["encoding"] == "utf-8"
    assert (found.source == "sniffed-over-label") == (name in MISDECLARED)
    text, exact = decode(raw, found)
    assert exact and "\ufffd" not in text


@pytest.mark.parametrize("name", NAMES)
def test_a_gbk_copy_is_filtered_like_the_page(name, bundled_model):
    """The same page in GBK, declared by the transport: the same blocks and
    links, and the marked page comes back in GBK."""
    raw = (PAGES / f"{name}.html").read_bytes()
    gbk = raw.decode("utf-8").encode("gbk", errors="xmlcharrefreplace")
    original = filter_page(raw, bundled_model).report
    copy = filter_page(gbk, bundled_model, declared_encoding="gbk").report
    texts = [[link["text"] for link in block["links"]] for block in original["blocks"]]
    assert texts == [[link["text"] for link in block["links"]] for block in copy["blocks"]]
    assert copy["encoding"] == "gbk"
    marked = filter_page(gbk, bundled_model, mode="mark", declared_encoding="gbk")
    assert marked.body.decode("gbk").count('data-sieve="clickbait"') == copy["summary"][
        "clickbait"]


def test_coverage_of_the_labelled_headlines(detected, labelled, figures):
    per_page = {}
    for name in NAMES:
        texts = {normalize(item.link.text) for block in detected[name][1] for item in block.items}
        headlines = labelled[name]
        per_page[name] = sum(h in texts for h in headlines) / len(headlines)
    total = sum(per_page[n] * len(labelled[n]) for n in NAMES) / sum(len(labelled[n])
                                                                    for n in NAMES)
    figures(coverage=round(total, 4), lowest_page=round(min(per_page.values()), 4))
    assert total >= 0.95
    assert min(per_page.values()) >= 0.80, per_page


def test_no_link_is_reported_outside_a_headline_block(detected, figures):
    outside = []
    for name in NAMES:
        root, blocks = detected[name]
        containers = [root.xpath(block["locator"]) for block in fixture(name)["blocks"]]
        assert all(len(found) == 1 for found in containers), name
        containers = {found[0] for found in containers}
        for block in blocks:
            for item in block.items:
                link = item.link.element
                if not containers & {link, *link.iterancestors()}:
                    outside.append((name, item.link.text))
    figures(links_outside_blocks=len(outside))
    assert outside == []


def test_the_blocks_a_reader_sees_are_found(detected, figures):
    wanted = found = counted = headed = 0
    for name in NAMES:
        blocks = detected[name][1]
        for expected in fixture(name)["blocks"]:
            if not expected.get("items_are_links", True):
                continue  # titles that are not links: nothing to filter
            wanted += 1
            match = next((b for b in blocks if {squash(expected["first"]), squash(
                expected["last"])} <= {squash(i.link.text) for i in b.items}), None)
            if match is None:
                continue
            found += 1
            counted += len(match.items) == expected["links"]
            headed += squash(match.heading) == squash(expected["heading"])
    figures(fixture_blocks=wanted, found=found, link_count_right=counted, heading_right=headed)
    assert found >= 0.85 * wanted
    assert counted >= 0.80 * found
    assert headed >= 0.50 * found


def test_what_a_reader_would_never_call_a_block_is_left_alone(detected):
    """The fixtures' not_blocks (navigation, footers, tags, comments ...): none
    of their links is an item of a reported block."""
    for name in NAMES:
        root, blocks = detected[name]
        items = {item.link.element for block in blocks for item in block.items}
        for group in fixture(name).get("not_blocks", []):
            for element in root.xpath(group["locator"]):
                assert not items & set(element.iter("a")), (name, group["what"])
