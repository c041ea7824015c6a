"""Scoring-time transform of a fitted feature union, vectorised over the batch.

:func:`transform` returns exactly what ``union.transform(texts)`` returns for
a union made by :func:`model.features.build_features` (same CSR matrix: same
columns, same float32 TF-IDF values, same float64 result), without a Python
loop over n-grams: the fitted vocabularies are compiled once per union into
integer lookup tables, and a batch is counted with numpy.

- Character n-grams (up to 3 characters) are integer keys of 21 bits per
  character, computed for every position of the batch's code points at once.
- Word n-grams: the batch is segmented in one call on the newline-joined
  text (jieba and rjieba cut each newline-free stretch on its own, so this
  equals one call per headline; checked per batch), each token is mapped to
  an integer id with one dict lookup, and bigrams are pairs of ids.
- TF-IDF weighting and L2 normalisation use scikit-learn's own arithmetic on
  the count matrix (same dtype, same in-place operations).

Anything this module does not recognise (another transformer, a weighted or
``set_output`` union, ``char_wb``, a custom tokenizer or preprocessor, longer
n-grams) falls back to ``union.transform``. The compiled tables live in a
weak cache beside the union, never in the pickled model.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections import Counter
from collections.abc import Sequence
from itertools import repeat

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.utils.sparsefuncs_fast import (inplace_csr_row_normalize_l1,
                                            inplace_csr_row_normalize_l2)

from model.bait_style import BaitFeatures, bait_row, bait_rows
from model.features import Segmenter, StyleFeatures, _cut_function, style_row, style_rows
from model.textarrays import SEPARATOR, CodePoints, code_points, joined_code_points

log = logging.getLogger(__name__)

_BITS = 21  # bits per character in a packed character n-gram key
_BMP_BITS = 16  # bits per character in a packed short token
_MAX_CHAR_N = 3  # 3 x 21 bits fit an int64
_UNKNOWN, _DROP, _SEPARATOR = 0, -1, -2  # token ids besides the vocabulary's (1, 2, ...)
_STORED = 4  # added to a token id in a KeyTable (whose "absent" is -1)
_NORMALIZERS = {"l2": inplace_csr_row_normalize_l2, "l1": inplace_csr_row_normalize_l1}
# Batches up to this size are counted headline by headline with dict lookups:
# the vectorised path's fixed cost (~100 numpy calls) dominates below it.
SMALL_BATCH = 8


class CsrArrays:
    """CSR arrays without a scipy object (which costs ~30 us to build): what
    scikit-learn's in-place row normalisers read (data, indices, indptr, shape)."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
                 n_columns: int):
        self.data, self.indices, self.indptr = data, indices, indptr
        self.shape = (len(indptr) - 1, n_columns)

    @classmethod
    def from_columns(cls, rows: list[list[int]], n_columns: int, dtype) -> "CsrArrays":
        """Counts, from each row's list of columns found (repeats counted)."""
        indptr, indices, values = [0], [], []
        for columns in rows:
            counted = Counter(columns)
            ordered = sorted(counted)
            indices += ordered
            values += map(counted.__getitem__, ordered)
            indptr.append(len(indices))
        return cls(np.array(values, dtype=dtype), np.array(indices, dtype=np.int32),
                   np.array(indptr, dtype=np.int32), n_columns)


class KeyTable:
    """A read-only int64 -> int64 hash map with vectorised lookups.

    Open addressing with linear probing in a table of at least ``spread``
    times the keys (Fibonacci hashing: the top bits of key x
    0x9E3779B97F4A7C15 mod 2^64); all keys must be >= 0.
    """

    _EMPTY = -1
    _MULTIPLIER = np.int64(0x9E3779B97F4A7C15 - (1 << 64))  # the same bits, as int64

    def __init__(self, keys, values, spread: int = 4):
        keys = np.asarray(keys, dtype=np.int64)
        values = np.asarray(values, dtype=np.int64)
        bits = max(4, int(np.ceil(np.log2(max(len(keys), 1) * spread))))
        self._shift = 64 - bits
        self._mask = (1 << bits) - 1
        self._keys = np.full(1 << bits, self._EMPTY, dtype=np.int64)
        self._values = np.full(1 << bits, -1, dtype=np.int64)
        slots = self._slots(keys)
        pending = np.arange(len(keys))
        while pending.size:  # each round places one key in each free slot asked for
            free = pending[self._keys[slots[pending]] == self._EMPTY]
            taken, first = np.unique(slots[free], return_index=True)
            winners = free[first]
            self._keys[taken] = keys[winners]
            self._values[taken] = values[winners]
            placed = np.zeros(len(keys), dtype=bool)
            placed[winners] = True
            pending = pending[~placed[pending]]
            slots[pending] = (slots[pending] + 1) & self._mask

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """The stored keys and their values (int64 arrays, in slot order)."""
        stored = self._keys != self._EMPTY
        return self._keys[stored], self._values[stored]

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        # int64 products wrap modulo 2^64; the arithmetic shift and the mask
        # keep the product's top bits.
        return ((keys * self._MULTIPLIER) >> self._shift) & self._mask

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 where absent; int64, shape of ``keys``."""
        slots = self._slots(keys)
        stored = self._keys[slots]
        result = self._values[slots]  # -1 at empty slots
        probing = np.flatnonzero((stored != keys) & (stored != self._EMPTY))
        result[probing] = -1
        while probing.size:  # keys that collided: walk on to their own slot or a gap
            slots[probing] = (slots[probing] + 1) & self._mask
            stored = self._keys[slots[probing]]
            hit = stored == keys[probing]
            result[probing[hit]] = self._values[slots[probing[hit]]]
            probing = probing[~hit & (stored != self._EMPTY)]
        return result


class _Ngrams:
    """N-grams of a batch found in a vocabulary, as ``rows`` (text index) and
    ``columns`` (vocabulary index) arrays, int64, added part by part."""

    def __init__(self, n_texts: int):
        self.n_texts = n_texts
        self.rows: list[np.ndarray] = []
        self.columns: list[np.ndarray] = []

    def add(self, rows: np.ndarray, columns: np.ndarray) -> None:
        self.rows.append(rows)
        self.columns.append(columns)

    def count_matrix(self, n_columns: int, dtype) -> sp.csr_matrix:
        """Counts, CSR of shape (n_texts, n_columns) in canonical form (sorted
        indices, no duplicates), as ``CountVectorizer.transform`` makes it."""
        keys = np.sort(np.concatenate(self.rows) * n_columns + np.concatenate(self.columns))
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        starts = np.flatnonzero(first)
        counts = np.diff(starts, append=len(keys))
        unique = keys[starts]
        # Row boundaries by binary search: cheaper than dividing every key.
        row_starts = np.arange(self.n_texts + 1, dtype=np.int64) * n_columns
        indptr = np.searchsorted(unique, row_starts)
        columns = unique - np.repeat(row_starts[:-1], np.diff(indptr))
        matrix = sp.csr_matrix((counts.astype(dtype), columns, indptr),
                               shape=(self.n_texts, n_columns))
        matrix.has_canonical_format = True
        return matrix


class Batch:
    """One batch of texts and what the blocks derive from it, each made once.

    When no text has a newline of its own, lower-casing and segmentation
    run once over the newline-joined batch. ``str.lower`` of the joined text
    equals joining the lower-cased texts: a newline is neither cased nor
    case-ignorable, so it ends the context of the final-sigma rule as the
    end of a string does.
    """

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.joined = SEPARATOR.join(texts)
        self.separable = self.joined.count(SEPARATOR) == len(texts) - 1
        self._points: dict[bool, CodePoints | None] = {}
        self._lower: str | None = None

    @property
    def joined_lower(self) -> str:
        if self._lower is None:
            self._lower = self.joined.lower()
        return self._lower

    def lowered(self) -> list[str]:
        if self.separable:
            return self.joined_lower.split(SEPARATOR)
        return [text.lower() for text in self.texts]

    def points(self, lowercase: bool) -> CodePoints | None:
        """Code points of the texts (lower-cased or not); None on unpaired surrogates."""
        if lowercase not in self._points:
            if self.separable:
                joined = self.joined_lower if lowercase else self.joined
                self._points[lowercase] = joined_code_points(joined, len(self.texts))
            else:
                self._points[lowercase] = code_points(self.lowered() if lowercase
                                                      else self.texts)
        return self._points[lowercase]


def _tfidf(vectorizer: TfidfVectorizer, counts):
    """``TfidfTransformer.transform(counts, copy=False)`` of the fitted vectorizer,
    the same in-place operations on the same dtype (``counts``: a CSR matrix
    or :class:`CsrArrays`, returned)."""
    tfidf = vectorizer._tfidf
    if vectorizer.binary:
        counts.data.fill(1)
    if tfidf.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    if hasattr(tfidf, "idf_"):
        counts.data *= tfidf.idf_[counts.indices]
    if tfidf.norm is not None:
        _NORMALIZERS[tfidf.norm](counts)
    return counts


def _plain_vectorizer(vectorizer, analyzer: str) -> bool:
    """True if ``vectorizer`` is a fitted TfidfVectorizer this module reproduces."""
    return (type(vectorizer) is TfidfVectorizer and vectorizer.analyzer == analyzer
            and vectorizer.input == "content" and vectorizer.preprocessor is None
            and vectorizer.strip_accents is None and vectorizer.stop_words is None
            and np.issubdtype(np.dtype(vectorizer.dtype), np.floating)
            and isinstance(getattr(vectorizer, "vocabulary_", None), dict)
            and hasattr(vectorizer, "_tfidf")
            and vectorizer._tfidf.norm in (None, *_NORMALIZERS))


class CharBlock:
    """Character n-gram TF-IDF (``analyzer="char"``) of a fitted vectorizer."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer
        self.vocabulary = vectorizer.vocabulary_
        self.n_columns = len(vectorizer.vocabulary_)
        self.low, self.high = vectorizer.ngram_range
        codes, lengths = _code_points_of(list(vectorizer.vocabulary_))
        # What the tables can stand for: terms of the vectorizer's n-gram range.
        self.valid = bool(np.all((lengths >= self.low) & (lengths <= self.high)))
        columns = np.fromiter(vectorizer.vocabulary_.values(), dtype=np.int64,
                              count=self.n_columns)
        keys = _fold(codes, lengths, self.high, lambda key, code: (key << _BITS) | code)
        of_length = {n: lengths == n for n in range(self.low, self.high + 1)}
        self.tables = {n: KeyTable(keys[rows], columns[rows])
                       for n, rows in of_length.items() if n > 1}
        # Single characters: a direct table, code point -> column (-1: none; the
        # last entry stands for every code point past the vocabulary's).
        single = of_length.get(1, np.zeros(self.n_columns, dtype=bool))
        self.unigrams = np.full(int(keys[single].max(initial=0)) + 2, -1, dtype=np.int64)
        self.unigrams[keys[single]] = columns[single]
        # An n-gram of the vocabulary normally has both of its (n-1)-grams in it
        # (min_df pruning keeps that true); then only positions where both were
        # found need an n-gram lookup.
        self.closed = all(
            np.isin(keys[of_length[n]] >> _BITS, keys[of_length[n - 1]]).all()
            and np.isin(keys[of_length[n]] & ((1 << _BITS * (n - 1)) - 1),
                        keys[of_length[n - 1]]).all()
            for n in range(self.low + 1, self.high + 1))

    @classmethod
    def compile(cls, vectorizer) -> "CharBlock | None":
        if not _plain_vectorizer(vectorizer, "char"):
            return None
        low, high = vectorizer.ngram_range
        if not 1 <= low <= high <= _MAX_CHAR_N:
            return None
        block = cls(vectorizer)
        return block if block.valid else None

    def is_current(self) -> bool:
        return self.vectorizer.vocabulary_ is self.vocabulary

    def transform(self, batch: Batch) -> sp.csr_matrix | None:
        """The vectorizer's TF-IDF of the batch (CSR), None if the batch has
        unpaired surrogates (the caller falls back)."""
        points = batch.points(self.vectorizer.lowercase)
        if points is not None and _has_whitespace_runs(points):
            # sklearn's _char_ngrams collapses them first; rare after normalisation.
            texts = batch.lowered() if self.vectorizer.lowercase else batch.texts
            points = code_points([self.vectorizer._white_spaces.sub(" ", t) for t in texts])
        if points is None:
            return None
        counts = self._ngrams(points).count_matrix(self.n_columns, self.vectorizer.dtype)
        return _tfidf(self.vectorizer, counts)

    def small(self, texts: list[str], lowered: list[str]) -> CsrArrays:
        """The TF-IDF of a few texts, n-grams listed as the vectorizer lists them."""
        get = self.vocabulary.get
        rows = []
        for text in lowered if self.vectorizer.lowercase else texts:
            text = self.vectorizer._white_spaces.sub(" ", text)
            grams = [text[i:i + n] for n in range(self.low, min(self.high, len(text)) + 1)
                     for i in range(len(text) - n + 1)]
            rows.append([column for column in map(get, grams) if column is not None])
        return _tfidf(self.vectorizer, CsrArrays.from_columns(rows, self.n_columns,
                                                              self.vectorizer.dtype))

    def _ngrams(self, points: CodePoints) -> _Ngrams:
        found = _Ngrams(points.n_texts)
        codes = points.codes
        keys = codes
        previous = None  # per position: its (n-1)-gram is in the vocabulary
        for n in range(1, self.high + 1):
            if n > 1:
                keys = (keys[:-1] << _BITS) | codes[n - 1:]
            if n < self.low:
                continue
            if n == 1:
                columns = self.unigrams[np.minimum(codes, len(self.unigrams) - 1)]
                previous = (columns >= 0) & points.inside(1)
                found.add(points.rows[previous], columns[previous])
                continue
            wanted = points.inside(n)
            if self.closed and previous is not None:
                wanted &= previous[:-1] & previous[1:]
            candidates = np.flatnonzero(wanted)
            columns = self.tables[n].get(keys[candidates])
            hit = columns >= 0
            found.add(points.rows[candidates[hit]], columns[hit])
            previous = np.zeros(len(keys), dtype=bool)
            previous[candidates[hit]] = True
        return found


@functools.lru_cache(maxsize=1)
def _whitespace_table() -> np.ndarray:
    """Boolean, shape (65536,): BMP characters that are whitespace (all of Unicode's are)."""
    return np.array([chr(c).isspace() for c in range(0x10000)], dtype=bool)


def _has_whitespace_runs(points: CodePoints) -> bool:
    """True if a text has two whitespace characters in a row."""
    codes = points.codes
    space = _whitespace_table()[np.minimum(codes, 0xFFFF)] & (codes <= 0xFFFF)
    return bool(np.any(space[:-1] & space[1:] & points.inside(2)))


class WordBlock:
    """Word n-gram TF-IDF of a fitted vectorizer whose tokenizer is a :class:`Segmenter`.

    Token ids: 1, 2, ... for the tokens of the vocabulary's terms, 0 for any
    other token, and two markers: whitespace tokens (which the Segmenter
    drops) and the newline between two texts of a batch.
    """

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer
        self.vocabulary = vectorizer.vocabulary_
        self.n_columns = len(vectorizer.vocabulary_)
        self.low, self.high = vectorizer.ngram_range
        self.segmenter: Segmenter = vectorizer.tokenizer
        # The terms' tokens in one list (splitting the joined terms at each
        # space equals splitting each term; no list per term to allocate).
        terms = list(vectorizer.vocabulary_)
        tokens = " ".join(terms).split(" ") if terms else []
        lengths = np.fromiter(map(str.count, terms, repeat(" ")), dtype=np.int64,
                              count=len(terms)) + 1
        ids = {token: i for i, token in enumerate(dict.fromkeys(tokens), 1)}
        self.n_ids = len(ids) + 1
        token_ids = np.fromiter(map(ids.__getitem__, tokens), dtype=np.int64,
                                count=len(tokens))
        keys = _fold(token_ids, lengths, self.high, lambda key, i: key * self.n_ids + i)
        columns = np.fromiter(vectorizer.vocabulary_.values(), dtype=np.int64,
                              count=self.n_columns)
        self.unigram_columns = np.full(self.n_ids, -1, dtype=np.int64)
        self.unigram_columns[keys[lengths == 1]] = columns[lengths == 1]
        self.tables = {n: KeyTable(keys[lengths == n], columns[lengths == n])
                       for n in np.unique(lengths).tolist() if n > 1}
        # What the tables can stand for: n-grams of the vectorizer's range, of
        # tokens without whitespace (else n-grams would be ambiguous), keys in int64.
        self.valid = (bool(np.all((lengths >= self.low) & (lengths <= self.high)))
                      and "" not in ids and not any(map(str.isspace, "".join(ids)))
                      and self.n_ids ** self.high < 2 ** 62)
        # jieba and rjieba emit whitespace as tokens of one character (or "\r\n").
        ids.update({chr(c): _DROP for c in range(0x10000) if chr(c).isspace()})
        ids.update({"\r\n": _DROP, "\n": _SEPARATOR})
        self.ids = ids
        every = list(ids)
        values = np.fromiter(ids.values(), dtype=np.int64, count=len(every))
        keys = _short_token_keys(every)
        short = keys >= 0
        self.short_tokens = KeyTable(keys[short], values[short] + _STORED)
        # The tokens the short table cannot hold, for the kernel's dict.
        self.long_tokens = {every[i]: int(values[i])
                            for i in np.flatnonzero(~short & (values > 0)).tolist()}

    @classmethod
    def compile(cls, vectorizer) -> "WordBlock | None":
        if not (_plain_vectorizer(vectorizer, "word")
                and type(vectorizer.tokenizer) is Segmenter):
            return None
        block = cls(vectorizer)
        return block if block.valid else None

    def is_current(self) -> bool:
        return self.vectorizer.vocabulary_ is self.vocabulary

    def transform(self, batch: Batch) -> sp.csr_matrix:
        """The vectorizer's TF-IDF of the batch (CSR)."""
        ids = self._token_ids(batch)
        counts = self._ngrams(ids, len(batch.texts)).count_matrix(self.n_columns,
                                                                  self.vectorizer.dtype)
        return _tfidf(self.vectorizer, counts)

    def small(self, texts: list[str], lowered: list[str]) -> CsrArrays:
        """The TF-IDF of a few texts, n-grams listed as the vectorizer lists them."""
        get = self.vocabulary.get
        rows = []
        for text in lowered if self.vectorizer.lowercase else texts:
            tokens = self.segmenter(text)
            grams = [" ".join(tokens[i:i + n]) for n in range(self.low, self.high + 1)
                     for i in range(len(tokens) - n + 1)]
            rows.append([column for column in map(get, grams) if column is not None])
        return _tfidf(self.vectorizer, CsrArrays.from_columns(rows, self.n_columns,
                                                              self.vectorizer.dtype))

    def _token_ids(self, batch: Batch) -> np.ndarray:
        """Token ids of the batch, whitespace tokens dropped, a separator id
        between two texts; int64."""
        if batch.separable:
            lowercase = self.vectorizer.lowercase
            joined = batch.joined_lower if lowercase else batch.joined
            tokens = _cut_function(self.segmenter.backend)(joined)
            points = batch.points(lowercase)
            ids = None if points is None else self._ids_by_code(tokens, points.codes)
            if ids is None:
                ids = self._ids(tokens)
            if np.count_nonzero(ids == _SEPARATOR) == len(batch.texts) - 1:
                return ids[ids != _DROP]
        texts = batch.lowered() if self.vectorizer.lowercase else batch.texts
        tokens = []
        for i, text in enumerate(texts):  # one text at a time, as the vectorizer does
            if i:
                tokens.append(SEPARATOR)
            tokens.extend(self.segmenter(text))
        ids = self._ids(tokens)
        return ids[ids != _DROP]

    def _ids(self, tokens: list[str]) -> np.ndarray:
        """Token ids by dict lookup, int64, shape (tokens,)."""
        return np.fromiter(map(self.ids.get, tokens, repeat(_UNKNOWN)), dtype=np.int64,
                           count=len(tokens))

    def _ids_by_code(self, tokens: list[str], codes: np.ndarray) -> np.ndarray | None:
        """Token ids, int64, shape (tokens,), from the code points of the text
        the tokens partition (None if they do not): tokens of up to 3 BMP
        characters by a vectorised lookup of their packed code points, longer
        ones by dict. Twice as fast as a dict lookup per token, which must
        hash every new token string."""
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        if lengths.sum() != len(codes) or not lengths.all():
            return None
        starts = np.cumsum(lengths) - lengths
        padded = np.concatenate([codes, np.zeros(2, dtype=codes.dtype)])
        keys = lengths << (3 * _BMP_BITS)
        wide = lengths > 3
        for k in range(3):
            code = np.where(lengths > k, padded[starts + k], 0)
            keys |= code << ((2 - k) * _BMP_BITS)
            wide |= code >= (1 << _BMP_BITS)
        found = self.short_tokens.get(keys)
        ids = np.where(found < 0, _UNKNOWN, found - _STORED)
        wide = np.flatnonzero(wide)
        ids[wide] = [self.ids.get(tokens[i], _UNKNOWN) for i in wide.tolist()]
        return ids

    def _ngrams(self, ids: np.ndarray, n_texts: int) -> _Ngrams:
        found = _Ngrams(n_texts)
        separator = ids == _SEPARATOR
        rows = np.cumsum(separator)[~separator]
        ids = ids[~separator]
        if self.low == 1:
            columns = self.unigram_columns[ids]
            hit = columns >= 0
            found.add(rows[hit], columns[hit])
        keys, known = ids, ids > 0
        for n in range(2, self.high + 1):
            keys = keys[:-1] * self.n_ids + ids[n - 1:]
            known = known[:-1] & (ids[n - 1:] > 0)
            if n < self.low or n not in self.tables:
                continue
            candidates = np.flatnonzero(known & (rows[:1 - n] == rows[n - 1:]))
            columns = self.tables[n].get(keys[candidates])
            hit = columns >= 0
            found.add(rows[candidates[hit]], columns[hit])
        return found


def _code_points_of(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(code points of ``strings`` one after another, int64; each string's
    length, int64, shape (strings,)). Unpaired surrogates are kept as code points."""
    lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    joined = "".join(strings).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(joined, dtype="<u4").astype(np.int64), lengths


def _fold(values: np.ndarray, lengths: np.ndarray, width: int, combine) -> np.ndarray:
    """One key per run of ``values`` (consecutive runs of ``lengths``): ``combine``
    folded over the run's first ``width`` values, from 0. int64, shape (runs,)."""
    starts = np.cumsum(lengths) - lengths
    keys = np.zeros(len(lengths), dtype=np.int64)
    for k in range(width):
        inside = np.flatnonzero(lengths > k)
        keys[inside] = combine(keys[inside], values[starts[inside] + k])
    return keys


def _short_token_keys(tokens: list[str]) -> np.ndarray:
    """Each token of 1 to 3 BMP characters as its packed key (16 bits per
    character, the first highest, and the length above them), -1 for any
    other token; int64, shape (tokens,)."""
    codes, lengths = _code_points_of(tokens)
    keys = _fold(codes, lengths, 3, lambda key, code: (key << _BMP_BITS) | code)
    keys <<= (3 - np.minimum(lengths, 3)) * _BMP_BITS
    keys |= lengths << (3 * _BMP_BITS)
    highest = _fold(codes, lengths, 3, np.maximum)
    keys[(lengths < 1) | (lengths > 3) | (highest >= 1 << _BMP_BITS)] = -1
    return keys


class DenseBlock:
    """A stateless block that is already vectorised over the batch:
    :class:`StyleFeatures` or :class:`BaitFeatures`, with its per-headline
    definition (``row``), its batch definition (``rows``) and whether both
    take the lower-cased texts."""

    _KINDS = {StyleFeatures: (style_row, style_rows, False),
              BaitFeatures: (bait_row, bait_rows, True)}

    def __init__(self, transformer):
        self.transformer = transformer
        self.row, self.rows, self.lowercase = self._KINDS[type(transformer)]
        self.n_features = len(transformer.get_feature_names_out())

    @classmethod
    def compile(cls, transformer) -> "DenseBlock | None":
        return cls(transformer) if type(transformer) in cls._KINDS else None

    def is_current(self) -> bool:
        return True

    def small(self, texts: list[str], lowered: list[str]) -> CsrArrays:
        indptr, indices, values = [0], [], []
        for text in lowered if self.lowercase else texts:
            row = self.row(text)
            indices += [j for j, value in enumerate(row) if value]
            values += [value for value in row if value]
            indptr.append(len(indices))
        return CsrArrays(np.array(values, dtype=np.float64), np.array(indices, dtype=np.int32),
                         np.array(indptr, dtype=np.int32), self.n_features)

    def transform(self, batch: Batch) -> sp.csr_matrix:
        points = batch.points(lowercase=self.lowercase)
        if points is None or not batch.texts:
            return self.transformer.transform(batch.texts)
        texts = batch.lowered() if self.lowercase else batch.texts
        return sp.csr_matrix(self.rows(texts, points))


class CompiledUnion:
    """A fitted :class:`FeatureUnion` of word, char, style and bait blocks, compiled."""

    def __init__(self, union: FeatureUnion, blocks: list):
        # A weak reference: the cache's value must not keep its key (the union)
        # alive, or every model a process ever loaded would stay in memory.
        self.union = weakref.ref(union)
        self.names = [name for name, _ in union.transformer_list]
        self.transformers = [transformer for _, transformer in union.transformer_list]
        self.blocks = blocks

    @classmethod
    def compile(cls, union) -> "CompiledUnion | None":
        """The compiled union, or None if a part is not one this module reproduces."""
        if (type(union) is not FeatureUnion or union.transformer_weights is not None
                or not union.transformer_list
                or getattr(union, "_sklearn_output_config", {}).get("transform",
                                                                     "default") != "default"):
            return None
        blocks = []
        for _, transformer in union.transformer_list:
            block = (CharBlock.compile(transformer) or WordBlock.compile(transformer)
                     or DenseBlock.compile(transformer))
            if block is None:
                return None
            blocks.append(block)
        return cls(union, blocks)

    def is_current(self) -> bool:
        """False once the union's parts were replaced or refitted."""
        union = self.union()
        return (union is not None
                and [t for _, t in union.transformer_list] == self.transformers
                and all(block.is_current() for block in self.blocks))

    def transform(self, texts: list[str]) -> sp.csr_matrix | None:
        """``union.transform(texts)``; None where the batch needs the fallback."""
        if len(texts) <= SMALL_BATCH:
            return self._transform_small(texts)
        batch = Batch(texts)
        parts = []
        for block in self.blocks:
            part = block.transform(batch)
            if part is None:
                return None
            parts.append(part)
        return sp.hstack(parts).tocsr()


    def small_arrays(self, texts: list[str]) -> CsrArrays:
        """The per-headline path: each block's rows, concatenated as hstack does
        (same columns, same values, the union's dtype)."""
        lowered = [text.lower() for text in texts]
        parts = [block.small(texts, lowered) for block in self.blocks]
        offsets = np.cumsum([0] + [part.shape[1] for part in parts]).tolist()
        dtype = np.result_type(*(part.data.dtype for part in parts))
        if len(texts) == 1:
            return CsrArrays(np.concatenate([part.data for part in parts]).astype(dtype),
                             np.concatenate([part.indices + offset
                                             for part, offset in zip(parts, offsets)]),
                             np.array([0, sum(len(part.data) for part in parts)]), offsets[-1])
        indptr, indices, data = [0], [], []
        for row in range(len(texts)):
            for part, offset in zip(parts, offsets):
                start, end = part.indptr[row], part.indptr[row + 1]
                indices.append(part.indices[start:end] + offset)
                data.append(part.data[start:end])
            indptr.append(indptr[-1] + sum(len(d) for d in data[-len(parts):]))
        return CsrArrays(np.concatenate(data).astype(dtype, copy=False),
                         np.concatenate(indices), np.asarray(indptr), offsets[-1])

    def _transform_small(self, texts: list[str]) -> sp.csr_matrix:
        arrays = self.small_arrays(texts)
        return sp.csr_matrix((arrays.data, arrays.indices, arrays.indptr), shape=arrays.shape)


_COMPILED: "weakref.WeakKeyDictionary[FeatureUnion, CompiledUnion | None]" = (
    weakref.WeakKeyDictionary())
_LOCK = threading.Lock()


def compiled(union: FeatureUnion) -> CompiledUnion | None:
    """The compiled form of ``union`` (built on first use, about 0.5 s for the
    bundled model), None if it has parts this module does not reproduce."""
    result = _COMPILED.get(union, False)
    if result is False or (result is not None and not result.is_current()):
        with _LOCK:
            result = CompiledUnion.compile(union)
            if result is None:
                log.info("feature union has parts the fast path does not know; "
                         "scoring with scikit-learn's transform")
            _COMPILED[union] = result
    return result


def small_batch_arrays(union: FeatureUnion, texts: list[str]) -> CsrArrays | None:
    """For a batch of at most :data:`SMALL_BATCH` texts, the arrays of
    ``union.transform(texts)`` without building the scipy matrix (saves
    ~50 us per call for one headline); None when the union is not compiled
    or the batch is larger."""
    if not texts or len(texts) > SMALL_BATCH:
        return None
    if sklearn.get_config()["transform_output"] != "default":
        return None
    fast = compiled(union)
    return None if fast is None else fast.small_arrays(texts)


def transform(union: FeatureUnion, texts: Sequence[str]) -> sp.csr_matrix:
    """``union.transform(texts)``, computed by the compiled union where possible."""
    texts = list(texts)
    fast = None
    if texts and sklearn.get_config()["transform_output"] == "default":
        fast = compiled(union)
    result = fast.transform(texts) if fast is not None else None
    return union.transform(texts) if result is None else result
