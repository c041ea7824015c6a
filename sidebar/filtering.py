"""Filtering a page: find its link blocks, score their links, act on the scores.

Modes:

``report``
    JSON (UTF-8): each block with its heading, and each item's link with
    href, text, label and p_clickbait. Text is text: ``<``, ``>`` and ``&``
    are written as ``\\u003c``, ``\\u003e`` and ``\\u0026``, so no part of
    the page can become markup wherever the report ends up. When the page's
    links carry ``data-sieve-link`` numbers (``sieve.js`` numbers them in the
    copy of the page it sends), each link also has a ``locator`` and each
    block a ``removal`` list: where the item, and what goes with an emptied
    block, sit relative to a numbered link (:func:`locate`), so the browser
    acts on exactly the elements the server chose.
``mark``
    The page, with ``data-sieve="clickbait"`` and the class
    ``sieve-clickbait`` on the item (usually the ``<li>``) of each bait link.
``remove``
    The page without the bait items; a block left empty goes with its heading.

Every link text of the page is scored in one call of :meth:`Model.score`.
Pages come back in their own encoding, every byte outside the changed
elements unchanged (see :mod:`sidebar.edits`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sidebar import document, encoding as encodings
from sidebar.blocks import Block, find_blocks
from sidebar.edits import Edit, apply_edits

logger = logging.getLogger(__name__)

MODES = ("report", "mark", "remove")
BAIT_LABEL = "clickbait"
MARK_ATTRIBUTE = ("data-sieve", "clickbait")
MARK_CLASS = "sieve-clickbait"
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                 "\u2028": "\\u2028", "\u2029": "\\u2029"}


@dataclass(frozen=True)
class FilterResult:
    """What :func:`filter_page` produced.

    ``body`` is the page (``mark``/``remove``) in ``encoding`` or the JSON
    report (``report``) in UTF-8; ``content_type`` says which. ``report`` is
    the report as a dict in every mode. ``byte_exact`` is False when the page
    had to be re-serialised by the parser (see :mod:`sidebar.edits`).
    """

    mode: str
    body: bytes
    content_type: str
    report: dict
    encoding: encodings.PageEncoding
    byte_exact: bool


def filter_page(raw: bytes, model, mode: str = "report", threshold: float | None = None,
                declared_encoding: str | None = None) -> FilterResult:
    """Filter the page ``raw`` (bytes as served) with ``model`` (a :class:`model.Model`).

    ``threshold`` overrides the model's p_clickbait cut; ``declared_encoding``
    is a charset the transport declared (an HTTP ``Content-Type`` parameter).
    Raises :class:`sidebar.document.PageTooDeep` for a page the parser cannot
    build whole (nothing is changed in it then).
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    page_encoding = encodings.detect(raw, declared_encoding)
    text, exact = encodings.decode(raw, page_encoding)
    root = document.parse(text)
    blocks = find_blocks(root) if root is not None else []
    verdicts = _score(blocks, model, threshold)
    report = _report(blocks, verdicts, model, threshold, mode, page_encoding)
    if mode == "report":
        return FilterResult(mode, report_json(report).encode("utf-8"),
                            "application/json; charset=utf-8", report, page_encoding, True)
    edits = _edits(blocks, verdicts, mode)
    if root is None or not edits:
        body, byte_exact = raw, True
    else:
        body, byte_exact = apply_edits(raw, text, exact, page_encoding, root, edits)
    logger.info("%s: %d blocks, %d links, %d bait, byte-exact %s", mode, len(blocks),
                report["summary"]["links"], report["summary"]["clickbait"], byte_exact)
    return FilterResult(mode, body, f"text/html; charset={page_encoding.label}", report,
                        page_encoding, byte_exact)


def report_json(report: dict) -> str:
    """The report as JSON text that cannot be read as markup anywhere."""
    text = json.dumps(report, ensure_ascii=False, indent=2)
    for char, escape in _JSON_ESCAPES.items():
        text = text.replace(char, escape)
    return text


def _score(blocks: list[Block], model, threshold: float | None) -> dict[str, object]:
    """One batch for the page: each distinct link text scored once."""
    texts = list(dict.fromkeys(item.link.text for block in blocks for item in block.items))
    return {result.headline: result for result in model.score(texts, threshold=threshold)}


def _is_bait(verdict) -> bool:
    return verdict.label == BAIT_LABEL


LINK_NUMBER = "data-sieve-link"


def locate(element, link) -> dict | None:
    """Where ``element`` sits relative to the ``<a>`` element ``link``, which
    carries a :data:`LINK_NUMBER`: ``{"link": n, "up": k, "before": j}`` means
    the k-th ancestor of link n (0: the link itself), then its j-th preceding
    element sibling (0: that ancestor). None if ``element`` is neither."""
    number = link.get(LINK_NUMBER)
    if number is None:
        return None
    for up, node in enumerate([link, *link.iterancestors()]):
        if node is element:
            return {"link": number, "up": up, "before": 0}
        if node.getparent() is not None and element.getparent() is node.getparent():
            siblings = [s for s in node.itersiblings(preceding=True) if document.is_element(s)]
            if element in siblings:
                return {"link": number, "up": up, "before": siblings.index(element) + 1}
    return None


def _link_entry(item, verdict) -> dict:
    entry = {"href": item.link.href, "text": item.link.text, "label": verdict.label,
             "p_clickbait": verdict.p_clickbait}
    locator = locate(item.element, item.link.element)
    if locator is not None:
        entry["locator"] = locator
    return entry


def _block_entry(block: Block, verdicts: dict) -> dict:
    entry = {"heading": block.heading, "marked": block.marked,
             "links": [_link_entry(item, verdicts[item.link.text]) for item in block.items]}
    first = block.items[0].link.element
    removal = [locate(element, first) for element in block.removal]
    if first.get(LINK_NUMBER) is not None and None not in removal:
        entry["removal"] = removal
    return entry


def _report(blocks: list[Block], verdicts: dict, model, threshold: float | None, mode: str,
            page_encoding: encodings.PageEncoding) -> dict:
    entries = [_block_entry(block, verdicts) for block in blocks]
    all_links = [link for entry in entries for link in entry["links"]]
    return {
        "mode": mode,
        "model": model.version,
        "threshold": model.threshold if threshold is None else float(threshold),
        "encoding": page_encoding.label,
        "blocks": entries,
        "summary": {"blocks": len(entries), "links": len(all_links),
                    "clickbait": sum(1 for link in all_links if link["label"] == BAIT_LABEL)},
    }


def _edits(blocks: list[Block], verdicts: dict, mode: str) -> list[Edit]:
    edits: list[Edit] = []
    for block in blocks:
        bait = [item for item in block.items if _is_bait(verdicts[item.link.text])]
        if not bait:
            continue
        if mode == "mark":
            edits += [Edit(item.element, "set", _mark_attributes(item.element)) for item in bait]
        elif len(bait) == len(block.items):
            edits += [Edit(element, "remove") for element in block.removal]
        else:
            edits += [Edit(item.element, "remove") for item in bait]
    return edits


def _mark_attributes(element) -> tuple[tuple[str, str], ...]:
    classes = element.get("class")
    if classes is None:
        classes = MARK_CLASS
    elif MARK_CLASS not in classes.split():
        classes = f"{classes} {MARK_CLASS}"
    return (MARK_ATTRIBUTE, ("class", classes))
