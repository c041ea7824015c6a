"""Where the tags of a page sit: a small tokenizer for source positions.

lxml's tree says nothing about where an element came from in the source, so
:mod:`sidebar.edits` finds its start and end tags here. The tokenizer follows
the HTML5 tokenizer's rules as far as they decide where tags are: comments,
doctype and bogus comments hold no tags; the content of raw-text elements
(``script``, ``style``, ``xmp``, ``iframe``, ``noembed``, ``noframes``) and
RCDATA elements (``title``, ``textarea``) ends only at their own end tag;
quoted attribute values may contain ``>``. It is one compiled regular
expression run over the text (a 5 MB page takes well under a second), and
it need not be perfect: every splice it leads to is checked by parsing the
result again (see :mod:`sidebar.edits`).
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

_NAME_END = r"[^\t\n\f\r />]*"
_ATTRIBUTE_SOURCE = (r"""[^\t\n\f\r />][^\t\n\f\r />=]*"""
                     r"""(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\t\n\f\r >]*))?""")
_MARKUP = re.compile(
    r"<!--.*?(?:--!?>|\Z)"                                     # comment
    r"|<[!?][^>]*>?"                                           # doctype, bogus comment
    rf"|</(?P<end>[A-Za-z]{_NAME_END})[^>]*>"                  # end tag
    rf"|<(?P<start>[A-Za-z]{_NAME_END})(?:[\t\n\f\r /]+|{_ATTRIBUTE_SOURCE})*>",  # start tag
    re.DOTALL)
ATTRIBUTE = re.compile(
    r"""[\t\n\f\r /]*(?P<name>[^\t\n\f\r />][^\t\n\f\r />=]*)"""
    r"""(?:\s*=\s*(?P<value>"[^"]*"|'[^']*'|[^\t\n\f\r >]*))?""")
RAW_TEXT_TAGS = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes",
                           "title", "textarea"})


@dataclass(frozen=True)
class Token:
    """A start or end tag: ``kind`` ("start"/"end"), lower-case ``tag``, and
    its character span ``start:end`` in the text."""

    kind: str
    tag: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Every start and end tag of ``text``, in order."""
    tokens: list[Token] = []
    position = 0
    while (match := _MARKUP.search(text, position)) is not None:
        position = match.end()
        if match.group("start"):
            tag = match.group("start").lower()
            tokens.append(Token("start", tag, match.start(), match.end()))
            if tag in RAW_TEXT_TAGS:
                close = _closing(tag).search(text, position)
                position = close.start() if close else len(text)
        elif match.group("end"):
            tokens.append(Token("end", match.group("end").lower(), match.start(), match.end()))
    return tokens


@functools.lru_cache(maxsize=None)
def _closing(tag: str) -> re.Pattern:
    return re.compile(rf"</{tag}[\t\n\f\r />]", re.IGNORECASE)


def attribute_spans(start_tag: str) -> dict[str, tuple[int, int, str]]:
    """Name -> (start, end, value) of each attribute of a start tag's source
    (the first of duplicates counts, as in HTML5); values unescaped."""
    name_end = re.match(r"<[^\t\n\f\r />]+", start_tag)
    position = name_end.end() if name_end else 1
    spans: dict[str, tuple[int, int, str]] = {}
    while (match := ATTRIBUTE.match(start_tag, position)) is not None and match.end() > position:
        value = match.group("value") or ""
        if value[:1] in "\"'" and len(value) >= 2 and value[-1] == value[0]:
            value = value[1:-1]
        spans.setdefault(match.group("name").lower(),
                         (match.start("name"), match.end(), html.unescape(value)))
        position = match.end()
    return spans


def attributes(start_tag: str) -> dict[str, str]:
    """Name -> unescaped value of each attribute of a start tag's source."""
    return {name: value for name, (_, _, value) in attribute_spans(start_tag).items()}
