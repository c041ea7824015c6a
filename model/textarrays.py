"""A batch of strings as one numpy array of code points, for vectorised features.

Usually the batch is the newline-joined text, one code point array with a
newline between two texts; when a text has a newline of its own, the texts
are concatenated without separators instead. Either way ``rows`` says which
text each position belongs to, and :meth:`CodePoints.inside` which positions
start an n-character window that lies inside one text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SEPARATOR = "\n"
BMP = 0x10000  # code points below this are in the Basic Multilingual Plane


@dataclass(frozen=True)
class CodePoints:
    """Code points of a batch of ``n_texts`` texts.

    ``codes``: int64, shape (positions,); ``rows``: int64, same shape, the
    text of each position (a separator counts with the text before it);
    ``separators``: boolean, same shape, or None when there are none.
    """

    codes: np.ndarray
    rows: np.ndarray
    separators: np.ndarray | None
    n_texts: int

    def inside(self, span: int) -> np.ndarray:
        """Boolean, shape (positions - span + 1,) (empty if negative): the
        windows of ``span`` characters that lie inside one text."""
        if span > len(self.codes):
            return np.zeros(0, dtype=bool)
        if span == 1:
            inside = np.ones(len(self.codes), dtype=bool)
        else:
            inside = self.rows[:1 - span] == self.rows[span - 1:]
        if self.separators is not None:
            inside &= ~self.separators[span - 1:]
        return inside

    def starting_inside(self, starts: np.ndarray, span: int) -> np.ndarray:
        """The positions of ``starts`` whose window of ``span`` characters lies
        inside one text."""
        starts = starts[starts + span <= len(self.codes)]
        ends = starts + span - 1
        keep = self.rows[starts] == self.rows[ends]
        if self.separators is not None:
            keep &= ~self.separators[ends]
        return starts[keep]

    def count_rows(self, mask: np.ndarray) -> np.ndarray:
        """Per text, the number of True positions in ``mask`` (shape: positions,
        or a leading part of them) that are not separators; int64, shape (n,)."""
        if self.separators is not None:
            mask = mask & ~self.separators[:len(mask)]
        return np.bincount(self.rows[:len(mask)][mask], minlength=self.n_texts)

    @property
    def lengths(self) -> np.ndarray:
        """Characters per text, int64, shape (n,)."""
        return self.count_rows(np.ones(len(self.codes), dtype=bool))


def _codes(text: str) -> np.ndarray | None:
    try:
        return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    except UnicodeEncodeError:  # unpaired surrogates
        return None


def joined_code_points(joined: str, n_texts: int) -> CodePoints | None:
    """The :class:`CodePoints` of ``n_texts`` texts joined by newlines (none of
    which has a newline of its own); None on unpaired surrogates."""
    codes = _codes(joined)
    if codes is None:
        return None
    separators = codes == ord(SEPARATOR)
    rows = np.cumsum(separators) - separators
    return CodePoints(codes, rows, separators, n_texts)


def code_points(texts: Sequence[str]) -> CodePoints | None:
    """The :class:`CodePoints` of ``texts``; None if an item is not a ``str``
    or holds an unpaired surrogate."""
    try:
        joined = SEPARATOR.join(texts)
    except TypeError:
        return None
    if joined.count(SEPARATOR) == len(texts) - 1:
        return joined_code_points(joined, len(texts))
    codes = _codes("".join(texts))
    if codes is None:
        return None
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    return CodePoints(codes, rows, None, len(texts))


class PhraseSet:
    """Which of a fixed list of phrases occur in each text of a batch.

    Vectorised over the batch's code points: only positions whose character
    starts some phrase are looked at; phrases of up to 3 characters are
    matched by one packed integer key (21 bits per character), longer ones
    character by character. A phrase that cannot be matched that way (empty,
    or starting outside the BMP) is found by a substring scan.
    """

    def __init__(self, phrases: Sequence[str]):
        self.phrases = tuple(phrases)
        self._first = np.zeros(BMP, dtype=bool)
        self._short: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._long: list[tuple[int, tuple[int, ...]]] = []
        self._scanned: list[int] = []
        short: dict[int, list[tuple[int, int]]] = {}
        for index, phrase in enumerate(self.phrases):
            if not phrase or ord(phrase[0]) >= BMP:
                self._scanned.append(index)
                continue
            self._first[ord(phrase[0])] = True
            if len(phrase) <= 3:
                short.setdefault(len(phrase), []).append((_pack(phrase), index))
            else:
                self._long.append((index, tuple(map(ord, phrase))))
        for length, entries in short.items():
            entries.sort()
            self._short[length] = (np.asarray([k for k, _ in entries], dtype=np.int64),
                                   np.asarray([i for _, i in entries], dtype=np.int64))

    def counts(self, texts: list[str], points: CodePoints) -> np.ndarray:
        """Per text, how many distinct phrases occur in it; int64, shape (n,)."""
        rows, _ = self.hits(texts, points)
        return np.bincount(rows, minlength=points.n_texts)

    def hits(self, texts: list[str], points: CodePoints) -> tuple[np.ndarray, np.ndarray]:
        """Which phrases occur in which text: (text index, phrase index) pairs,
        two int64 arrays of the same length, each pair once, sorted."""
        codes = points.codes
        starts = np.flatnonzero(self._first[np.minimum(codes, BMP - 1)] & (codes < BMP))
        found_rows, found_ids = [], []
        for length, (keys, ids) in self._short.items():
            at = points.starting_inside(starts, length)
            key = codes[at]
            for k in range(1, length):
                key = (key << 21) | codes[at + k]
            slot = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
            hit = keys[slot] == key
            found_rows.append(points.rows[at[hit]])
            found_ids.append(ids[slot[hit]])
        for index, chars in self._long:
            at = points.starting_inside(starts, len(chars))
            for k, char in enumerate(chars):
                at = at[codes[at + k] == char]
            found_rows.append(points.rows[at])
            found_ids.append(np.full(len(at), index, dtype=np.int64))
        for index in self._scanned:
            rows = [i for i, text in enumerate(texts) if self.phrases[index] in text]
            found_rows.append(np.asarray(rows, dtype=np.int64))
            found_ids.append(np.full(len(rows), index, dtype=np.int64))
        pairs = np.unique(np.concatenate(found_rows) * len(self.phrases)
                          + np.concatenate(found_ids))
        return pairs // len(self.phrases), pairs % len(self.phrases)


def _pack(text: str) -> int:
    """Up to 3 characters as one integer, 21 bits each (the first highest)."""
    key = 0
    for char in text:
        key = (key << 21) | ord(char)
    return key
