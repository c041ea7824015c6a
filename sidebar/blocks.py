"""Finding the headline blocks of a page: 推荐阅读, 热门点击, 相关新闻, ranking
tabs, recommendation feeds ...

A *block* is a container whose children are items that each lead with one
headline link, usually introduced by a heading. Detection, in order:

1. Candidate links are ``<a href>`` elements whose visible text could be a
   headline (:func:`_headline_like`: seven letters or more, Han or three
   Latin words, no service phrasing such as 客户端下载 or 更多>>), outside an
   item's tag, keyword or channel row. Image links, tags, comment counts do
   not shape items. Inside ``data-sieve-block`` every link with text counts.
2. Each link climbs to its *item*: the highest ancestor that holds no other
   headline link; a list item (``li``, ``dt``, ``dd``, ``tr``) right above
   it is always taken, so a row of two links is one item, and left when it
   is alone in its parent (``<dl><dt>img</dt><dd>title</dd></dl>`` repeated).
   The item's parent is the *container*; links are grouped by it.
3. A box's lead items (``<h2><a>lead</a></h2><ul>...</ul>``, at most
   :data:`MAX_LEAD_ITEMS` of them, links to articles) join the list beside
   them, and the box becomes the container.
4. A group is a block if an ancestor-or-self carries ``data-sieve-block``
   (the page says so: it always counts), or if all of these hold:

   * it is not in a navigation bar, breadcrumb trail, footer, comment system
     or article body (``nav``/``footer``/``article`` elements, ARIA roles,
     id/class words such as ``nav``, ``menu``, ``crumb``, ``footer``,
     ``about``, ``cmt``, ``sohucs``, or a close ancestor holding several
     paragraphs of prose); an ``aside`` nearer to the links wins over these;
   * it has at least :data:`MIN_ITEMS` items, and they are not readers'
     comments (most items with a 回复 or 举报 control);
   * its link texts read like headlines (median length at least
     :data:`MIN_HEADLINE_CHARS` characters);
   * links carry a fair share of its text (:data:`MIN_LINK_SHARE`), or its
     items are all one kind of block element (a feed whose items carry tags,
     sources and times too), and there are few words between the items
     (:data:`MAX_LOOSE_SHARE`), so links inside running text do not count.

5. The heading is the nearest preceding sibling of the container (or of a
   wrapper that holds nothing else) that is an ``h1``-``h6`` or has a
   title-like class, with short text; its title part is kept (a heading bar
   also holds 更多, dates, tab switches). A block in a tab panel is named by
   its tab's label (:func:`_tab_label`). When a block ends up empty, its
   wrapper (heading and list together) is removed, or else heading and list.

``tests/fixtures/real_pages/`` holds what a reader sees on 18 real portal
pages; ``tests/test_sidebar_real_pages.py`` measures these rules against it.
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
MIN_LINK_LETTERS = 7  # fewer letters (tags, 更多, comment counts) are not headlines
MIN_HEADLINE_CHARS = 8
MIN_LINK_SHARE = 0.25
MAX_LOOSE_SHARE = 0.2
MAX_HEADING_CHARS = 40
MAX_LEAD_ITEMS = 2
MAX_TAB_CHARS = 10
_STATE_WORDS = frozenset({"current", "active", "on", "off", "show", "hide", "hidden", "cur",
                          "selected", "first", "last"})
_INLINE_TAGS = frozenset({"span", "em", "b", "i", "strong", "font", "label"})
PROSE_LEVELS = 3  # the container and its two nearest ancestors
ITEM_TAGS = frozenset({"li", "dt", "dd", "tr"})
_ITEM_BOXES = ITEM_TAGS | {"div", "article", "section"}
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_STRUCTURE_TAGS = frozenset({"html", "body", "head"})
_EXCLUDED_TAGS = frozenset({"nav", "footer", "article", "menu"})
_EXCLUDED_ROLES = frozenset({"navigation", "contentinfo", "menubar", "menu", "article",
                             "tablist"})
_EXCLUDED_WORDS = frozenset({"foot", "ft", "copyright", "about", "pager", "pagination", "pages",
                             "pagenav", "breadcrumb", "breadcrumbs", "crumb", "crumbs"})
# Comment systems' containers (Sohu Changyan, replies).
_COMMENT_WORDS = frozenset({"sohucs", "changyan"})
_COMMENT_CONTROLS = ("回复", "举报")
_TAG_WORDS = frozenset({"tag", "tags", "keyword", "keywords", "channel"})
TAG_ROW_LEVELS = 2
_HEADING_WORDS = frozenset({"title", "tit", "tlt", "hd", "head", "header", "heading",
                            "caption", "bt", "name"})
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_MARKED = etree.XPath(f"//*[@{MARK_ATTRIBUTE}]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
# Service links, not headlines: app downloads, "more" and "back" links.
_SERVICE = re.compile(r"客户端|^下载|下载$|\bAPP$|^更多|^返回|>>?\s*$|ICP|公网安备")
# An article's address: a long number in the path (dates, ids) or a page file.
_ARTICLE_PATH = re.compile(r"\d{4}|\.s?html?(?:[?#]|$)")
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
    groups = _with_lead_items(_group_by_container(links, bearing))
    zones = _ZoneCache()
    blocks = []
    for container, members in groups.items():
        block = _as_block(container, members, bearing, zones)
        if block is not None:
            blocks.append(block)
    return _without_heading_links(blocks)


def _candidate_links(root: etree._Element) -> Iterable[Link]:
    """Links whose text could be a headline: image links, tags, "更多",
    "跟贴1827", "网易新闻客户端下载" do not shape items. In an element marked
    ``data-sieve-block`` every link with text counts (the page says so)."""
    marked = _MARKED(root) and set(_MARKED(root))
    for anchor in shown_links(root):
        text = visible_text(anchor)
        if text and marked and not marked.isdisjoint(anchor.iterancestors()):
            yield Link(anchor, anchor.get("href"), text)
        elif _headline_like(text) and not _in_tag_row(anchor):
            yield Link(anchor, anchor.get("href"), text)


def _in_tag_row(anchor: etree._Element) -> bool:
    """Whether the link sits in an item's tag, keyword, channel or footer row
    (within :data:`TAG_ROW_LEVELS` of it): a keyword there may read like a
    headline ("国防部：正告民进党当局不要玩火") but it is not the item's."""
    for level, node in enumerate(_self_and_ancestors(anchor)):
        if level > TAG_ROW_LEVELS:
            return False
        words = _words(node)
        if words & _TAG_WORDS or any(_is_navigation_word(word) for word in words):
            return True
    return False


def _headline_like(text: str) -> bool:
    """Could ``text`` be a headline? :data:`MIN_LINK_LETTERS` letters with two
    Han characters, or three Latin-script words (a name, "by Taboola",
    "Sponsored Links" are not), and no service phrasing (客户端下载, 更多>>)."""
    letters = sum(1 for char in text if char.isalpha())
    if letters < MIN_LINK_LETTERS:
        return False
    if len(_HAN.findall(text)) < 2 and len(text.split()) < 3:
        return False
    return not _SERVICE.search(text)


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
    """The item around a headline link: climb while the parent holds no other
    headline link; a list item (``li``, ``dt``, ``dd``, ``tr``) right above
    is always taken (a row of links is one item), and left only if it is the
    sole headline-bearing child of its parent (``<dl><dd>`` repeated)."""
    node = anchor
    while True:
        parent = node.getparent()
        if (parent is None or parent.tag in _STRUCTURE_TAGS
                or parent.get(MARK_ATTRIBUTE) is not None):
            break
        if parent not in counts:
            counts[parent] = sum(1 for child in parent if child in bearing)
        if counts[parent] > 1 and (node.tag in ITEM_TAGS or parent.tag not in ITEM_TAGS):
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


def _with_lead_items(groups: dict[etree._Element, dict[etree._Element, list[Link]]]
                     ) -> dict[etree._Element, dict[etree._Element, list[Link]]]:
    """Merge a box's lead items into its list: ``<div><h2><a>lead</a></h2><ul>
    <li>...</li></ul></div>`` groups the lead under the ``div`` and the rest
    under the ``ul``; the box shows them as one list. A group of at most
    :data:`MAX_LEAD_ITEMS` items merges into the list beside it (the list's
    container a child of the group's container, or the only child of such a
    child), and the box becomes the block's container."""
    for container in sorted(groups, key=_depth, reverse=True):
        branch = container
        if container.getparent() not in groups and _sole_child(container):
            branch = container.getparent()
        parent = branch.getparent()
        lead = groups.get(parent)
        if lead is None or len(lead) > MAX_LEAD_ITEMS or container not in groups:
            continue
        if any(item.getparent() is not parent or not _article_link(links[0])
               for item, links in lead.items()) or not _only_holds(
                parent, {*lead, branch}, headings=True):
            continue
        merged = {**lead, **groups.pop(container)}
        order = {element: i for i, element in enumerate(parent.iter())}
        groups[parent] = dict(sorted(merged.items(), key=lambda kv: order.get(kv[0], 0)))
    return groups


def _article_link(link: Link) -> bool:
    """Whether the link leads to an article (not a channel, section or user page)."""
    path = (link.href or "").split("//", 1)[-1].partition("/")[2]
    return bool(_ARTICLE_PATH.search(path))


def _depth(element: etree._Element) -> int:
    return sum(1 for _ in element.iterancestors())


def _sole_child(element: etree._Element) -> bool:
    return element.getparent() is not None and len(_elements(element.getparent())) == 1


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
        block.heading = _heading_text(heading)
    block.removal = _removal(container, heading, level, marker)
    tab = _tab_label(container)
    if tab is not None:
        block.heading = tab
    return block


def _heading_text(heading: etree._Element) -> str:
    """A heading's title: its ``h1``-``h6``, else its first part with text
    (a heading bar also holds "更多", "查看全部", dates, tab switches)."""
    inner = next(heading.iter(*HEADING_TAGS), None)
    if inner is not None and visible_text(inner):
        return visible_text(inner)
    parts = [child for child in _elements(heading) if visible_text(child)]
    leading = " ".join((heading.text or "").split())
    if leading or not parts:
        return leading or visible_text(heading)
    if all(part.tag in _INLINE_TAGS and not _SERVICE.search(visible_text(part))
           for part in parts):
        return visible_text(heading)  # a title in styled pieces: 热图 + 排行
    return visible_text(parts[0])


def _tab_label(container: etree._Element) -> str | None:
    """The label of the tab whose panel holds ``container``: the panel is the
    k-th of its parent's children of the same kind (tag and classes, state
    classes aside), and the element with text right before the panels (the
    tab bar) has one short label per panel; the k-th names it. A single panel
    right under a bar of several labels (a feed whose other tabs load later)
    takes the first label."""
    node = container
    for level in range(3):
        parent = node.getparent()
        if parent is None or parent.tag in _STRUCTURE_TAGS:
            return None
        kind = _panel_kind(node)
        panels = [child for child in _elements(parent) if _panel_kind(child) == kind]
        for bar in (_previous_element(panels[0]), _previous_element(parent)):
            if bar is None or bar in panels or _ZoneCache._excluding(bar):
                continue
            labels = _tab_labels(bar)
            if len(labels) >= 2 and len(labels) == len(panels):
                return labels[panels.index(node)]
            if len(labels) >= 2 and len(panels) == 1 and level <= 1:
                return labels[0]
        node = parent
    return None


def _panel_kind(element: etree._Element) -> tuple:
    return element.tag, frozenset(_words(element) - _STATE_WORDS)


def _previous_element(element: etree._Element) -> etree._Element | None:
    """The nearest preceding sibling element with text (spacers skipped)."""
    return next((s for s in element.itersiblings(preceding=True)
                 if is_element(s) and visible_text(s)), None)


def _tab_labels(bar: etree._Element) -> list[str]:
    """The labels of a tab bar: its text-bearing children (or their children,
    for a bar wrapping a ``ul``), each short."""
    parts = [child for child in _elements(bar) if visible_text(child)]
    if len(parts) == 1:
        parts = [child for child in _elements(parts[0]) if visible_text(child)]
    labels = [visible_text(part) for part in parts]
    if not labels or any(len(label) > MAX_TAB_CHARS for label in labels):
        return []
    return labels


def _looks_like_block(container: etree._Element, items: list[Item], zones: "_ZoneCache") -> bool:
    if len(items) < MIN_ITEMS or zones.excluded(container) or _comment_list(items):
        return False
    lengths = [len(item.link.text) for item in items]
    if statistics.median(lengths) < MIN_HEADLINE_CHARS:
        return False
    total = len(visible_text(container))
    if total == 0 or (sum(lengths) < MIN_LINK_SHARE * total and not _uniform(items)):
        return False
    return _loose_words(container) <= MAX_LOOSE_SHARE * sum(lengths)


def _comment_list(items: list[Item]) -> bool:
    """Readers' comments, not headlines: most items offer a reply (回复) or a
    report (举报) button beside their link."""
    with_controls = sum(1 for item in items
                        if any(word in visible_text(item.element).replace(item.link.text, "")
                               for word in _COMMENT_CONTROLS))
    return with_controls * 2 > len(items)


def _uniform(items: list[Item]) -> bool:
    """Items that are all block elements of one kind (same tag, same class): a
    feed whose items carry tags, sources and times besides the headline."""
    kinds = {(item.element.tag, item.element.get("class")) for item in items}
    return len(kinds) == 1 and next(iter(kinds))[0] in _ITEM_BOXES


def _loose_words(container: etree._Element) -> int:
    """Letters and digits between the items: separators ("|", "·") do not
    count, the words of a sentence that links sit in do."""
    loose = (container.text or "") + "".join(child.tail or "" for child in container)
    return sum(1 for char in loose if char.isalnum())


def _words(element: etree._Element) -> set[str]:
    value = f"{element.get('id', '')} {element.get('class', '')}".lower()
    return {word for word in _WORD_SPLIT.split(value) if word}


def _is_navigation_word(word: str) -> bool:
    """Navigation, footers, and comment zones (readers' comments are not headlines)."""
    return (word in _EXCLUDED_WORDS or word.startswith("nav") or word.endswith("nav")
            or "menu" in word or "crumb" in word or word.startswith("footer")
            or word.endswith("footer") or "commt" in word or word.startswith("cmt")
            or word.endswith("cmt") or word in _COMMENT_WORDS)


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


def _is_heading_word(word: str) -> bool:
    return word in _HEADING_WORDS or word.startswith("tit") or word.endswith(
        ("title", "tit", "tlt"))


def _looks_like_heading(element: etree._Element) -> bool:
    if element.tag in HEADING_TAGS or element.tag in ("caption", "legend"):
        return bool(visible_text(element))
    titled = next(element.iter(*HEADING_TAGS), None) is not None or any(
        _is_heading_word(word) for word in _words(element))
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


def _only_holds(wrapper: etree._Element, parts: set[etree._Element],
                headings: bool = False) -> bool:
    """Whether everything visible in ``wrapper`` is inside ``parts`` (or, with
    ``headings``, in a heading)."""
    if any(child not in parts and visible_text(child)
           and not (headings and _looks_like_heading(child)) for child in _elements(wrapper)):
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
