"""Finding the link blocks of a page: 推荐阅读, 最新更新, 热门点击, 相关新闻 ...

A *block* is a container whose children are items that each lead with one
link, usually introduced by a heading. Detection, in order:

1. Candidate links are ``<a href>`` elements with visible text (script and
   style content does not count).
2. Each link climbs to its *item*: the highest ancestor that holds no other
   link-bearing sibling, or the list item (``li``, ``dt``, ``dd``, ``tr``)
   around it. The item's parent is the *container*; links are grouped by it.
3. A group is a block if an ancestor-or-self carries ``data-sieve-block``
   (the page says so: it always counts), or if all of these hold:

   * it is not in a navigation bar, breadcrumb trail, footer or article body
     (``nav``/``footer``/``article`` elements, ARIA roles, id/class words
     such as ``nav``, ``menu``, ``crumb``, ``footer``, ``copyright``, or a
     close ancestor holding several paragraphs of prose); an ``aside``
     nearer to the links wins over these;
   * it has at least :data:`MIN_ITEMS` items;
   * its link texts read like headlines, not menu entries (median length at
     least :data:`MIN_HEADLINE_CHARS` characters);
   * links carry most of its text (:data:`MIN_LINK_SHARE`) and there are
     few words between the items (:data:`MAX_LOOSE_SHARE`), so links inside
     running text do not count.

4. The heading is the nearest preceding sibling of the container (or of a
   wrapper that holds nothing else) that is an ``h1``-``h6`` or has a
   title-like class, with short text. When a block ends up empty, its
   wrapper (heading and list together) is removed, or else heading and list.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from sidebar.document import is_element, shown_links, visible_text

MARK_ATTRIBUTE = "data-sieve-block"
MIN_ITEMS = 2
MIN_HEADLINE_CHARS = 8
MIN_LINK_SHARE = 0.5
MAX_LOOSE_SHARE = 0.2
MAX_HEADING_CHARS = 40
PROSE_LEVELS = 3  # the container and its two nearest ancestors
ITEM_TAGS = frozenset({"li", "dt", "dd", "tr"})
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_STRUCTURE_TAGS = frozenset({"html", "body", "head"})
_EXCLUDED_TAGS = frozenset({"nav", "footer", "article", "menu"})
_EXCLUDED_ROLES = frozenset({"navigation", "contentinfo", "menubar", "menu", "article",
                             "tablist"})
_EXCLUDED_WORDS = frozenset({"foot", "ft", "copyright", "pager", "pagination", "pages",
                             "pagenav", "breadcrumb", "breadcrumbs", "crumb", "crumbs"})
_HEADING_WORDS = frozenset({"title", "tit", "hd", "head", "header", "heading", "caption",
                            "bt", "name"})
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_PROSE_TAGS = frozenset({"p", "blockquote"})
_PROSE_PARAGRAPH_CHARS = 40
_PROSE_RUN_CHARS = 200


@dataclass
class Link:
    """A headline link: the ``<a>`` element, its href as written, its text."""

    element: etree._Element
    href: str
    text: str


@dataclass
class Item:
    """One entry of a block: the element to mark or remove and its headline link."""

    element: etree._Element
    link: Link


@dataclass
class Block:
    """A link block. ``removal`` lists what goes when every item is removed."""

    container: etree._Element
    items: list[Item]
    heading: str | None = None
    heading_element: etree._Element | None = None
    marked: bool = False
    removal: list[etree._Element] = field(default_factory=list)


def find_blocks(root: etree._Element) -> list[Block]:
    """The link blocks of a parsed page, in document order."""
    links = list(_candidate_links(root))
    bearing = _link_bearing(links)
    groups = _group_by_container(links, bearing)
    zones = _ZoneCache()
    blocks = []
    for container, members in groups.items():
        block = _as_block(container, members, bearing, zones)
        if block is not None:
            blocks.append(block)
    return _without_heading_links(blocks)


def _candidate_links(root: etree._Element) -> Iterable[Link]:
    for anchor in shown_links(root):
        text = visible_text(anchor)
        if text:
            yield Link(anchor, anchor.get("href"), text)


def _link_bearing(links: list[Link]) -> set[etree._Element]:
    """Every element that contains (or is) a candidate link."""
    bearing: set[etree._Element] = set()
    for link in links:
        bearing.add(link.element)
        for ancestor in link.element.iterancestors():
            if ancestor in bearing:
                break
            bearing.add(ancestor)
    return bearing


def _item_of(anchor: etree._Element, bearing: set[etree._Element],
             counts: dict[etree._Element, int]) -> etree._Element:
    node = anchor
    while node.tag not in ITEM_TAGS:
        parent = node.getparent()
        if parent is None or parent.tag in _STRUCTURE_TAGS:
            break
        if parent not in counts:
            counts[parent] = sum(1 for child in parent if child in bearing)
        if parent.tag not in ITEM_TAGS and counts[parent] > 1:
            break
        node = parent
    return node


def _group_by_container(links: list[Link], bearing: set[etree._Element]
                        ) -> dict[etree._Element, dict[etree._Element, list[Link]]]:
    groups: dict[etree._Element, dict[etree._Element, list[Link]]] = {}
    counts: dict[etree._Element, int] = {}  # link-bearing children per element
    for link in links:
        item = _item_of(link.element, bearing, counts)
        container = item.getparent()
        if container is None:
            continue
        groups.setdefault(container, {}).setdefault(item, []).append(link)
    return groups


def _as_block(container: etree._Element, members: dict[etree._Element, list[Link]],
              bearing: set[etree._Element], zones: "_ZoneCache") -> Block | None:
    items = [Item(element, max(links, key=lambda link: len(link.text)))
             for element, links in members.items()]
    marker = zones.marker(container)
    if marker is None and not _looks_like_block(container, items, zones):
        return None
    block = Block(container, items, marked=marker is not None)
    heading, level = _find_heading(container, bearing, marker)
    if heading is not None:
        block.heading_element = heading
        inner = next((h for h in heading.iter(*HEADING_TAGS)), heading)
        block.heading = visible_text(inner) or visible_text(heading)
    block.removal = _removal(container, heading, level, marker)
    return block


def _looks_like_block(container: etree._Element, items: list[Item], zones: "_ZoneCache") -> bool:
    if len(items) < MIN_ITEMS or zones.excluded(container):
        return False
    lengths = [len(item.link.text) for item in items]
    if statistics.median(lengths) < MIN_HEADLINE_CHARS:
        return False
    total = len(visible_text(container))
    if total == 0 or sum(lengths) < MIN_LINK_SHARE * total:
        return False
    return _loose_words(container) <= MAX_LOOSE_SHARE * sum(lengths)


def _loose_words(container: etree._Element) -> int:
    """Letters and digits between the items: separators ("|", "·") do not
    count, the words of a sentence that links sit in do."""
    loose = (container.text or "") + "".join(child.tail or "" for child in container)
    return sum(1 for char in loose if char.isalnum())


def _words(element: etree._Element) -> set[str]:
    value = f"{element.get('id', '')} {element.get('class', '')}".lower()
    return {word for word in _WORD_SPLIT.split(value) if word}


def _is_navigation_word(word: str) -> bool:
    return (word in _EXCLUDED_WORDS or word.startswith("nav") or word.endswith("nav")
            or "menu" in word or "crumb" in word or word.startswith("footer")
            or word.endswith("footer"))


class _ZoneCache:
    """Answers, per element, whether it is marked, excluded or prose."""

    def __init__(self) -> None:
        self._prose: dict[etree._Element, bool] = {}

    def marker(self, element: etree._Element) -> etree._Element | None:
        """The nearest ancestor-or-self with ``data-sieve-block``, if any."""
        for node in _self_and_ancestors(element):
            if node.get(MARK_ATTRIBUTE) is not None:
                return node
        return None

    def excluded(self, element: etree._Element) -> bool:
        """Whether the nearest zone around ``element`` is one the filter leaves alone.

        Prose counts only within :data:`PROSE_LEVELS` of the container: a list
        in an article body sits right in it, while a page whose ``body`` holds
        paragraphs and a sidebar ``div`` is not an article around the sidebar.
        """
        for level, node in enumerate(_self_and_ancestors(element)):
            if node.tag == "aside":
                return False
            if self._excluding(node):
                return True
            if level < PROSE_LEVELS and node.tag not in _STRUCTURE_TAGS and self.prose(node):
                return True
        return False

    @staticmethod
    def _excluding(node: etree._Element) -> bool:
        if node.tag in _EXCLUDED_TAGS or node.get("role") in _EXCLUDED_ROLES:
            return True
        if (node.get("itemprop") or "").lower() == "articlebody":
            return True
        return any(_is_navigation_word(word) for word in _words(node))

    def prose(self, node: etree._Element) -> bool:
        """An article body: several paragraphs of text that is not link text."""
        if node not in self._prose:
            paragraphs = sum(1 for child in node if child.tag in _PROSE_TAGS
                             and _unlinked_chars(child) >= _PROSE_PARAGRAPH_CHARS)
            loose = len("".join((node.text or "").split()))
            loose += sum(len("".join((child.tail or "").split())) for child in node)
            self._prose[node] = paragraphs >= 2 or loose >= _PROSE_RUN_CHARS
        return self._prose[node]


def _unlinked_chars(element: etree._Element) -> int:
    linked = sum(len(visible_text(a)) for a in element.iter("a"))
    return len(visible_text(element)) - linked


def _self_and_ancestors(element: etree._Element) -> Iterable[etree._Element]:
    yield element
    yield from element.iterancestors()


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if is_element(child)]


def _looks_like_heading(element: etree._Element) -> bool:
    if element.tag in HEADING_TAGS or element.tag in ("caption", "legend"):
        return bool(visible_text(element))
    titled = next(element.iter(*HEADING_TAGS), None) is not None or bool(
        _words(element) & _HEADING_WORDS)
    if not titled or sum(1 for _ in element.iter("a")) > 2:
        return False
    text = visible_text(element)
    return 0 < len(text) <= MAX_HEADING_CHARS


def _find_heading(container: etree._Element, bearing: set[etree._Element],
                  marker: etree._Element | None) -> tuple[etree._Element | None, etree._Element]:
    """``(heading, node)``: the heading and the sibling of it that holds the
    container (the container itself or a wrapper of it)."""
    node = container
    for _ in range(3):
        previous = [sib for sib in node.itersiblings(preceding=True) if is_element(sib)][:2]
        for sibling in previous:
            if _looks_like_heading(sibling):
                return sibling, node
        parent = node.getparent()
        if parent is None or parent.tag in _STRUCTURE_TAGS or node is marker:
            break
        others = [child for child in parent if child in bearing and child is not node
                  and not _looks_like_heading(child)]
        if others:
            break
        node = parent
    return None, container


def _removal(container: etree._Element, heading: etree._Element | None,
             node: etree._Element, marker: etree._Element | None) -> list[etree._Element]:
    if marker is not None and marker is not container and heading is None:
        return [marker] if _only_holds(marker, {node}) else [container]
    if heading is None:
        return [container]
    wrapper = node.getparent()
    if (wrapper is not None and wrapper.tag not in _STRUCTURE_TAGS
            and _only_holds(wrapper, {node, heading})):
        return [wrapper]
    return [heading, node]


def _only_holds(wrapper: etree._Element, parts: set[etree._Element]) -> bool:
    """Whether everything visible in ``wrapper`` is inside ``parts``."""
    if any(child not in parts and visible_text(child) for child in _elements(wrapper)):
        return False
    loose = (wrapper.text or "") + "".join(child.tail or "" for child in wrapper)
    return not loose.strip()


def _without_heading_links(blocks: list[Block]) -> list[Block]:
    """Drop items that are the heading of another block (a titled link, "更多")."""
    headings = [b.heading_element for b in blocks if b.heading_element is not None]
    if not headings:
        return blocks
    inside = set()
    for heading in headings:
        inside.update(heading.iter())
    kept = []
    for block in blocks:
        block.items = [item for item in block.items if item.element not in inside
                       and item.link.element not in inside]
        if block.items:
            kept.append(block)
    return kept
