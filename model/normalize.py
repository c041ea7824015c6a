"""Text normalisation shared by training and scoring.

Every headline goes through :func:`normalize_many` before features are
extracted, so a model sees the same form at fit and at predict time:

1. Unicode NFKC (full-width ASCII and punctuation become half-width,
   compatibility characters fold to their canonical form);
2. traditional to simplified Chinese with OpenCC's ``t2s`` table;
3. whitespace runs (including newlines and ideographic spaces) collapse
   to one ASCII space, and the ends are stripped.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import numpy as np

_WHITESPACE = re.compile(r"\s+")
# Control and format characters (C0/C1, zero-width, bidi marks) carry no
# meaning in a headline; they are dropped before whitespace is collapsed.
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
                        r"\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SEPARATOR = "\n"
_BMP = 0x10000
_FEW = 8  # batches this small skip the numpy compatibility fold (its set-up costs more)


@functools.lru_cache(maxsize=1)
def _converter():
    import opencc  # imported lazily: no work at import time

    return opencc.OpenCC("t2s")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def normalize(text: str) -> str:
    """Return the normalised form of one headline (see module docstring)."""
    return _converter().convert(_clean(text))


@functools.lru_cache(maxsize=1)
def _compatibility_table() -> np.ndarray:
    """Code point -> code point, shape (65536,) uint32: each BMP character whose
    compatibility decomposition (NFKD) is one other character maps to it, every
    other character to itself. Built once per process (about 50 ms)."""
    table = np.arange(_BMP, dtype=np.uint32)
    for code in range(_BMP):
        folded = unicodedata.normalize("NFKD", chr(code))
        if len(folded) == 1 and folded != chr(code) and folded not in "\r\n":
            table[code] = ord(folded)
    return table


def _fold_compatibility(text: str) -> str:
    """``text`` with every BMP character replaced by its one-character NFKD.

    NFKC starts by fully decomposing each character, so this changes nothing
    in ``NFKC(text)``; it lets the quick check of :func:`unicodedata.normalize`
    pass on most headlines (full-width punctuation is the usual reason it
    fails), which skips the slow full normalisation.
    Raises ``UnicodeEncodeError`` on unpaired surrogates.
    """
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    folded = _compatibility_table()[np.minimum(codes, _BMP - 1)]
    folded = np.where(codes < _BMP, folded, codes)
    return folded.tobytes().decode("utf-32-le")


def _clean_joined(texts: list[str]) -> list[str] | None:
    """:func:`_clean` of each text, computed on the newline-joined batch.

    Returns None when the shortcut does not apply (a text contains a newline
    or an unpaired surrogate); the caller then cleans one text at a time.
    """
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:
        return None
    if len(texts) <= _FEW:
        joined = _SEPARATOR.join([unicodedata.normalize("NFKC", t) for t in texts])
        if joined.count(_SEPARATOR) != len(texts) - 1:  # defensive: NFKC adds no newline
            return None
    elif not unicodedata.is_normalized("NFKC", joined):
        try:
            folded = _fold_compatibility(joined).split(_SEPARATOR)
        except UnicodeEncodeError:
            return None
        joined = _SEPARATOR.join([unicodedata.normalize("NFKC", t) for t in folded])
        if joined.count(_SEPARATOR) != len(texts) - 1:  # defensive: NFKC adds no newline
            return None
    # The class of invisible characters has no newline. str.split() splits on
    # the characters regex \s matches, so the join equals _clean's last line.
    return [" ".join(text.split()) for text in _INVISIBLE.sub("", joined).split(_SEPARATOR)]


def normalize_many(texts: Iterable[str]) -> list[str]:
    """Normalise a batch of headlines; equal to :func:`normalize` of each.

    Cleaning and the OpenCC conversion run once over the newline-joined
    batch, which is several times faster than one call per headline; this
    is safe because no text of the batch contains a newline (else each text
    is cleaned on its own, which turns its newlines into spaces).
    """
    texts = list(texts)
    if len(texts) <= 1:  # one headline (an HTTP request's): no batch to join
        return [normalize(text) for text in texts]
    cleaned = _clean_joined(texts)
    if cleaned is None:
        cleaned = [_clean(t) for t in texts]
    converted = _converter().convert(_SEPARATOR.join(cleaned)).split(_SEPARATOR)
    if len(converted) != len(cleaned):  # defensive: t2s never adds newlines
        return [_converter().convert(t) for t in cleaned]
    return converted
