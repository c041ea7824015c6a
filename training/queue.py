"""Which headlines to ask the editors about first.

Uncertainty sampling around the threshold, with some diversity: the
candidates whose calibrated logit is nearest the threshold's come first,
and a candidate is passed over when it shares more than
:data:`MAX_OVERLAP` of its character bigrams (Jaccard) with one already
chosen, so one story told ten ways does not fill the queue.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_OVERLAP = 0.5
SHORTLIST_FACTOR = 20  # candidates looked at per headline asked for


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p) - np.log1p(-p)


def most_useful(texts: Sequence[str], p_clickbait: np.ndarray, threshold: float,
                n: int) -> list[int]:
    """Indices of up to ``n`` of ``texts`` (normalised, shape (m,), with their
    p_clickbait) to label first, most uncertain first (see module docstring)."""
    distance = np.abs(_logit(np.asarray(p_clickbait, float)) - _logit(np.array([threshold])))
    order = np.argsort(distance, kind="stable")[:max(n * SHORTLIST_FACTOR, n)]
    chosen: list[int] = []
    seen: list[set[str]] = []
    for index in order:
        grams = _bigrams(texts[index])
        if all(len(grams & other) / len(grams | other) <= MAX_OVERLAP for other in seen):
            chosen.append(int(index))
            seen.append(grams)
            if len(chosen) == n:
                break
    return chosen
