"""Parsing a page into a tree, and reading the text a reader sees in it.

The parser is lxml's HTML parser (libxml2, whose tokenizer follows HTML5 since
2.14). It was chosen over the alternatives for three reasons:

* it recovers from broken markup (unclosed tags, stray end tags, bad nesting)
  the way a browser does closely enough to find the same lists and links;
* it is a maintained C library with wheels for every platform we run on, and
  parses a 5 MB page in a few tens of milliseconds (BeautifulSoup on top of
  html.parser is an order of magnitude slower; selectolax has no XPath and
  a smaller user base);
* it works on decoded text, so the page's own encoding (UTF-8 or GBK/GB18030)
  is decided by :mod:`sidebar.encoding`, not by a guess inside the parser.

libxml2 does not close an open ``<a>`` when the next ``<li>`` or ``<a>``
starts, so a list whose links are never closed would nest every item in the
previous one; :func:`parse` moves such items back beside each other, as the
HTML5 tree builder of a browser does.

The tree is used to *decide* what to change; :mod:`sidebar.edits` then writes
those changes into the original bytes, so everything else keeps its bytes.

Even with ``huge_tree``, libxml2 stops building the tree at a nesting depth
of 2048 (a hostile page, or 1,100 list items whose ``<li><a>`` are never
closed); everything after that point is missing from the tree. Filtering such
a tree would drop the rest of the page, so :func:`parse` raises
:class:`PageTooDeep` instead.
"""

from __future__ import annotations

import functools
import re

from lxml import etree

_DOCTYPE = re.compile(r"<!doctype[^>]*>", re.IGNORECASE)
# Elements whose content is never shown as text.
HIDDEN_TAGS = ("script", "style", "template", "noscript")


@functools.lru_cache(maxsize=1)
def _parser() -> etree.HTMLParser:
    # huge_tree lifts libxml2's depth and text-node limits, which a large or
    # badly nested page would otherwise hit and get truncated at. Plain etree
    # elements (not lxml.html's classes) keep a 40,000-link page fast.
    return etree.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=False,
                            remove_pis=False)


def _not_hidden() -> str:
    return "not(" + " or ".join(f"ancestor::{tag}" for tag in HIDDEN_TAGS) + ")"


@functools.lru_cache(maxsize=1)
def _visible_text_xpath() -> etree.XPath:
    return etree.XPath(f".//text()[{_not_hidden()}]")


@functools.lru_cache(maxsize=1)
def _shown_links_xpath() -> etree.XPath:
    return etree.XPath(f"//a[@href][{_not_hidden()}]")


def shown_links(root: etree._Element) -> list[etree._Element]:
    """The ``<a href>`` elements of the page outside script/style/template/noscript."""
    return _shown_links_xpath()(root)


class PageTooDeep(ValueError):
    """The parser stopped at a resource limit (nesting depth): the tree lacks the
    rest of the page."""


def parse(text: str) -> etree._Element | None:
    """Parse a page; None if it holds nothing the parser can build a tree of.

    Raises :class:`PageTooDeep` if the parser stopped before the end of the page.
    """
    if not text.strip():
        return None
    parser = _parser()
    try:
        root = etree.fromstring(parser_input(text), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    _check_complete(parser)
    if root is None:
        return None
    _unnest(root, "li", frozenset({"li", "ul", "ol", "menu"}))
    _unnest(root, "a", frozenset({"a"}))
    return root


def _check_complete(parser: etree.HTMLParser) -> None:
    for entry in parser.error_log:
        if entry.type_name == "ERR_RESOURCE_LIMIT" or "Excessive depth" in entry.message:
            raise PageTooDeep(f"the page nests its elements too deeply for the HTML parser "
                              f"(line {entry.line}: {entry.message.strip()}); it was left "
                              "unfiltered rather than cut short")


def _unnest(root: etree._Element, tag: str, scopes: frozenset[str]) -> None:
    """Move each ``tag`` element whose nearest ``scopes`` ancestor is another
    ``tag`` element out to follow that element (in document order, so a chain
    of unclosed items becomes a run of siblings)."""
    moved: set[etree._Element] = set()
    for element in list(root.iter(tag)):
        outer = next(element.iterancestors(*scopes), None)
        if outer is None or outer.tag != tag:
            continue
        anchor = outer
        while (following := anchor.getnext()) is not None and following in moved:
            anchor = following
        anchor.addnext(element)
        moved.add(element)


def parser_input(text: str) -> bytes:
    """The bytes given to libxml2: UTF-8, with NUL (which would end the parse
    early) replaced by U+FFFD so that character offsets stay aligned."""
    return text.replace("\x00", "\ufffd").encode("utf-8", errors="replace")


def source_doctype(text: str) -> str | None:
    """The page's own ``<!DOCTYPE ...>`` as written, if it has one (libxml2
    reports a default HTML 4 doctype for pages without)."""
    position = 0
    while True:  # skip whitespace and comments (a loop: a regex backtracks badly here)
        while position < len(text) and text[position].isspace():
            position += 1
        if not text.startswith("<!--", position):
            break
        end = text.find("-->", position + 4)
        if end < 0:
            return None
        position = end + 3
    match = _DOCTYPE.match(text, position)
    return match.group(0) if match else None


def serialize(root: etree._Element, doctype: str | None = None) -> str:
    """The whole document as text, as lxml writes it: ``doctype`` (pass
    :func:`source_doctype`), comments around the root element, the root."""
    parts = [doctype + "\n"] if doctype else []
    nodes = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
    parts += [etree.tostring(node, encoding="unicode", method="html") for node in nodes]
    return "".join(parts)


def visible_text(element: etree._Element) -> str:
    """The element's text without script/style content, whitespace collapsed."""
    return " ".join("".join(_visible_text_xpath()(element)).split())


def is_element(node) -> bool:
    """True for elements, False for comments and processing instructions."""
    return isinstance(node.tag, str)
