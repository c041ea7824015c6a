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

_WHITESPACE = re.compile(r"\s+")
# Control and format characters (C0/C1, zero-width, bidi marks) carry no
# meaning in a headline; they are dropped before whitespace is collapsed.
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
                        r"\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


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


def normalize_many(texts: Iterable[str]) -> list[str]:
    """Normalise a batch of headlines.

    The OpenCC conversion runs once over the newline-joined batch, which is
    several times faster than one call per headline; this is safe because
    :func:`_clean` has already turned every newline into a space.
    """
    cleaned = [_clean(t) for t in texts]
    if not cleaned:
        return []
    converted = _converter().convert("\n".join(cleaned)).split("\n")
    if len(converted) != len(cleaned):  # defensive: t2s never adds newlines
        return [_converter().convert(t) for t in cleaned]
    return converted
