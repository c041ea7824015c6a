"""Writing the filter's changes into the page while keeping every other byte.

Serialising a whole parsed tree rewrites the page: entities are decoded,
attribute quoting changes, broken markup is "fixed". So the changes are
planned on the lxml tree and then written into the *original bytes*:

1. :mod:`sidebar.tokens` records where each start and end tag of the decoded
   page sits; the n-th ``<li>`` element of the tree is the n-th ``<li`` start
   tag of the source (the attributes are compared to be sure);
2. a removed element spans from its start tag (with the whitespace before it)
   to its end tag, or to where the parser closed it implicitly;
3. a marked element gets its attributes set inside its start tag only;
4. the same changes are made to the tree, and the edited page is parsed again:
   if its tree serialises exactly like the changed tree, the spliced bytes are
   returned. Otherwise (markup the two tokenizers read differently) the
   changed tree is serialised instead, which is correct but rewrites the page
   the way the parser does.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

from lxml import etree

from sidebar import document
from sidebar.encoding import PageEncoding, encode
from sidebar.tokens import Token, attribute_spans, attributes, tokenize

logger = logging.getLogger(__name__)

VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                       "meta", "param", "source", "track", "wbr", "keygen", "frame"})
# Tags that a start tag of the same name closes when one is open, unless one
# of the scope tags is open between them (a nested list opens a new scope);
# None: only when nothing is open between them.
_CLOSED_BY_SIBLING: dict[str, frozenset[str] | None] = {
    "li": frozenset({"ul", "ol", "menu"}), "a": frozenset(), "dt": frozenset({"dl"}),
    "dd": frozenset({"dl"}), "tr": frozenset({"table"}), "option": frozenset({"select"}),
    "p": None, "td": None, "th": None}
_SPACE = " \t\r\n\f"


@dataclass(frozen=True)
class Edit:
    """``remove`` an element, or ``set`` attributes on it (name -> value)."""

    element: etree._Element
    kind: str
    attributes: tuple[tuple[str, str], ...] = ()


def apply_edits(raw: bytes, text: str, exact: bool, encoding: PageEncoding,
                root: etree._Element, edits: list[Edit]) -> tuple[bytes, bool]:
    """The page with ``edits`` applied, and whether it was spliced byte-exactly.

    ``root`` (parsed from ``text``) is changed in place.
    """
    edits = _outermost(edits)
    if not edits:
        return raw, True
    try:
        replacements = _plan(text, root, edits)
    except _Mismatch as exc:
        logger.info("cannot locate an element in the source (%s); serialising the tree", exc)
        replacements = None
    for edit in edits:
        _apply_to_tree(edit)
    expected = document.serialize(root, document.source_doctype(text))
    if replacements is not None:
        spliced = _splice_text(text, replacements)
        reparsed = document.parse(spliced)
        if reparsed is not None and document.serialize(
                reparsed, document.source_doctype(spliced)) == expected:
            if exact:
                return _splice_bytes(raw, text, encoding, replacements), True
            return encode(spliced, encoding), False
        logger.info("spliced page parses differently from the edited tree; serialising the tree")
    return encode(expected, encoding), False


class _Mismatch(Exception):
    """The tokenizer and the tree disagree about an element."""


def _outermost(edits: list[Edit]) -> list[Edit]:
    """Drop edits inside an element that is removed anyway."""
    removed = {e.element for e in edits if e.kind == "remove"}
    kept: dict[tuple[int, str], Edit] = {}
    for edit in edits:
        if not any(a in removed for a in edit.element.iterancestors()):
            kept.setdefault((id(edit.element), edit.kind), edit)
    return list(kept.values())


def _plan(text: str, root: etree._Element, edits: list[Edit]) -> list[tuple[int, int, str]]:
    tokens = tokenize(text)
    located = _locate(root, text, tokens, [edit.element for edit in edits])
    replacements = []
    for edit in edits:
        index = located[edit.element]
        if edit.kind == "remove":
            start = _whitespace_before(text, tokens[index].start)
            replacements.append((start, _element_end(tokens, index, edit.element, len(text)), ""))
        else:
            token = tokens[index]
            tag = _set_attributes(text[token.start:token.end], edit.attributes)
            replacements.append((token.start, token.end, tag))
    replacements.sort()
    for before, after in zip(replacements, replacements[1:]):
        if after[0] < before[1]:
            raise _Mismatch("overlapping edits")
    return replacements


def _locate(root: etree._Element, text: str, tokens: list[Token],
            elements: list[etree._Element]
            ) -> dict[etree._Element, int]:
    """Token index of each element's start tag (n-th element of a tag name =
    n-th start tag of that name)."""
    wanted = {element.tag for element in elements}
    ordinal: dict[etree._Element, int] = {}
    for tag in wanted:
        for n, element in enumerate(root.iter(tag)):
            ordinal[element] = n
    starts: dict[str, list[int]] = {tag: [] for tag in wanted}
    for index, token in enumerate(tokens):
        if token.kind == "start" and token.tag in starts:
            starts[token.tag].append(index)
    located = {}
    for element in elements:
        indexes = starts[element.tag]
        n = ordinal[element]
        if n >= len(indexes):
            raise _Mismatch(f"<{element.tag}> #{n} has no start tag")
        token = tokens[indexes[n]]
        if attributes(text[token.start:token.end]) != dict(element.attrib):
            raise _Mismatch(f"<{element.tag}> #{n} has other attributes in the source")
        located[element] = indexes[n]
    return located


def _whitespace_before(text: str, start: int) -> int:
    while start > 0 and text[start - 1] in _SPACE:
        start -= 1
    return start


def _element_end(tokens: list[Token], index: int, element: etree._Element, limit: int) -> int:
    """Where the element that starts at ``tokens[index]`` ends in the source."""
    tag = element.tag
    ancestors = {a.tag for a in element.iterancestors()}
    stack: list[str] = []
    for position in range(index + 1, len(tokens)):
        token = tokens[position]
        if token.kind == "start":
            if token.tag == tag and tag in _CLOSED_BY_SIBLING:
                scopes = _CLOSED_BY_SIBLING[tag]
                if not stack if scopes is None else not scopes.intersection(stack):
                    return token.start
            if token.tag not in VOID_TAGS:
                stack.append(token.tag)
        elif token.tag in stack:
            del stack[len(stack) - 1 - stack[::-1].index(token.tag):]
        elif token.tag == tag:
            return token.end
        elif token.tag in ancestors:
            return token.start
    return limit


def _set_attributes(start_tag: str, values: tuple[tuple[str, str], ...]) -> str:
    """``start_tag`` with each attribute set (replaced in place or appended)."""
    spans = attribute_spans(start_tag)
    for name, value in values:
        written = f'{name}="{html.escape(value, quote=True)}"'
        if name in spans:
            begin, end, _ = spans[name]
            start_tag = start_tag[:begin] + written + start_tag[end:]
        else:
            close = len(start_tag) - (2 if start_tag.endswith("/>") else 1)
            while close > 0 and start_tag[close - 1] in _SPACE:
                close -= 1
            start_tag = start_tag[:close] + " " + written + start_tag[close:]
        spans = attribute_spans(start_tag)
    return start_tag


def _apply_to_tree(edit: Edit) -> None:
    element = edit.element
    if edit.kind == "set":
        for name, value in edit.attributes:
            element.set(name, value)
        return
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "").rstrip(_SPACE) or None
    else:
        parent = element.getparent()
        parent.text = (parent.text or "").rstrip(_SPACE) or None
    _drop(element)


def _drop(element: etree._Element) -> None:
    """Remove ``element`` but keep its tail text in place."""
    parent = element.getparent()
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail or None
    else:
        parent.text = (parent.text or "") + tail or None
    parent.remove(element)


def _splice_text(text: str, replacements: list[tuple[int, int, str]]) -> str:
    pieces, position = [], 0
    for start, end, new in replacements:
        pieces += [text[position:start], new]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _splice_bytes(raw: bytes, text: str, encoding: PageEncoding,
                  replacements: list[tuple[int, int, str]]) -> bytes:
    """Apply character-offset replacements to the original bytes."""
    offsets = _byte_offsets(text, encoding, sorted({p for r in replacements for p in r[:2]}))
    pieces, position = [], 0
    for start, end, new in replacements:
        pieces += [raw[position:offsets[start]],
                   new.encode(encoding.output_codec, errors="xmlcharrefreplace")]
        position = offsets[end]
    pieces.append(raw[position:])
    return b"".join(pieces)


def _byte_offsets(text: str, encoding: PageEncoding, positions: list[int]) -> dict[int, int]:
    offsets, done, size = {}, 0, len(encoding.bom)
    for position in positions:
        size += len(text[done:position].encode(encoding.codec))
        offsets[position], done = size, position
    return offsets

