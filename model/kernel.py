"""The compiled scoring kernel (``model/_kernel.pyx``) for a fitted HeadlineClassifier.

:func:`log_odds` gives ``classifier.decision_function`` of normalised
headlines in one compiled pass per headline, from the lookup tables of the
compiled feature union (:mod:`model.fast_features`): no sparse matrix, no
numpy call per block, so one headline costs microseconds instead of the
vectorised path's fixed cost. It answers None (the caller takes the
vectorised path) when the extension is not built, the union has a part the
kernel does not know, or the batch is one the kernel does not reproduce
(a text with a newline of its own, unpaired surrogates, runs of
whitespace, an n-gram counted more than 65,535 times).

The extension is built by ``pip install`` from the Cython source with the
system's C compiler (``make`` installs one); without it everything still
works, on the vectorised path.
"""

from __future__ import annotations

import logging
import threading
import weakref

import numpy as np

from model import fast_features
from model.bait_style import (_CLASSIFIERS, _QUESTION_ENDS, _VAGUE_STARTS, PHRASE_GROUPS,
                              _phrase_table)
from model.fast_features import CharBlock, DenseBlock, WordBlock
from model.textarrays import BMP, SEPARATOR, _pack
from model.features import _QUOTES, BAIT_PHRASES, GOSSIP_TERMS, StyleFeatures, _cut_function

try:
    from model import _kernel
except ImportError:  # built without a C compiler: the vectorised path serves
    _kernel = None

log = logging.getLogger(__name__)

TF_TABLE_SIZE = 1 << 16
# What the kernel reads of a TF-IDF column (its Column and Slot structs):
# one lookup brings the column, its idf and the classifier's weight together.
COLUMN = np.dtype([("column", "<i4"), ("idf", "<f4"), ("weight", "<f8")])
SLOT = np.dtype([("key", "<i8"), ("column", "<i4"), ("idf", "<f4"), ("weight", "<f8")])
TABLE_SPREAD = 2  # slots per key (at least) in the kernel's n-gram tables
_FNV_OFFSET, _FNV_PRIME, _MASK64 = 1469598103934665603, 1099511628211, (1 << 64) - 1
_KINDS = {WordBlock: 0, CharBlock: 1}
_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def available() -> bool:
    """True if the compiled extension is importable."""
    return _kernel is not None


def log_odds(classifier, texts: list[str],
             calibration: tuple[float, float] | None = None) -> np.ndarray | None:
    """``classifier.decision_function`` of normalised ``texts``, shape (n,), or None.

    With ``calibration`` = (a, b): the calibrated probabilities
    ``1 / (1 + exp(-(a * d + b)))`` of those log-odds d instead, computed in
    the same compiled pass (a one-headline batch pays no numpy call for them).
    """
    kernel = _kernel_of(classifier)
    if kernel is None or not texts:
        return None
    joined = SEPARATOR.join(texts)
    lowered = joined.lower()  # equals joining the lower-cased texts (see fast_features.Batch)
    try:
        tokens = _cut_function(kernel.backend)(lowered)
    except UnicodeError:  # unpaired surrogates: the vectorised path handles them
        return None
    out = np.empty(len(texts))
    if not kernel.tables.log_odds(lowered, joined, tokens, len(texts), out):
        return None  # a text with a newline of its own, runs of whitespace ...
    if calibration is None:
        out += kernel.intercept
    else:
        _kernel.logistic(out, kernel.intercept, *calibration)
    return out


class _Compiled:
    def __init__(self, coef, intercept: float, tables, backend: str):
        self.coef, self.intercept, self.tables, self.backend = coef, intercept, tables, backend


def _kernel_of(classifier) -> _Compiled | None:
    if _kernel is None:
        return None
    cached = _CACHE.get(classifier)
    if _current(cached, classifier):
        return cached or None
    union = fast_features.compiled(classifier.features_)
    with _LOCK:
        cached = _CACHE.get(classifier)  # another thread may have built it meanwhile
        if _current(cached, classifier):
            return cached or None
        built = _build(classifier, union) if union is not None else None
        _CACHE[classifier] = built if built is not None else False
    return built


def _current(cached, classifier) -> bool:
    """True if ``cached`` (a _Compiled, False for "the kernel does not apply", or
    None) answers for the classifier's present weights."""
    return cached is not None and (cached is False or (
        cached.coef is classifier.coef_ and cached.intercept == classifier.intercept_[0]))


def _build(classifier, union) -> _Compiled | None:
    """The kernel's tables for ``classifier``, or None if its union has other parts."""
    kinds, offsets, blocks = [], [], {}
    offset = 0
    for block in union.blocks:
        if isinstance(block, DenseBlock):
            kind = 2 if isinstance(block.transformer, StyleFeatures) else 3
            width = block.n_features
        else:
            kind, width = _KINDS[type(block)], block.n_columns
            if not block.vectorizer.lowercase or block.high > 3:
                return None
        if kind in blocks:
            return None
        kinds.append(kind)
        offsets.append(offset)
        blocks[kind] = block
        offset += width
    style_phrases = _style_phrases()
    if any(0x4E00 <= ord(q) <= 0x9FFF for q in _QUOTES):
        return None  # the kernel's style pass takes Han characters for no quote
    if set(blocks) != {0, 1, 2, 3} or any(not phrase for phrase in style_phrases[0]):
        return None
    word, char = blocks[0], blocks[1]
    ordered = [0] * 4
    for kind, start in zip(kinds, offsets):
        ordered[kind] = start
    tf = np.arange(TF_TABLE_SIZE, dtype=np.float32)
    with np.errstate(divide="ignore"):
        np.log(tf, out=tf)  # what TfidfTransformer does to float32 counts (sublinear_tf)
    tf += 1.0
    if not (word.vectorizer._tfidf.sublinear_tf and char.vectorizer._tfidf.sublinear_tf
            and word.vectorizer._tfidf.norm == "l2" == char.vectorizer._tfidf.norm
            and word.vectorizer.dtype == np.float32 == char.vectorizer.dtype):
        return None
    weights = classifier._scoring_weights()
    word_columns = _ColumnData(word.vectorizer._tfidf.idf_, weights[ordered[0]:])
    char_columns = _ColumnData(char.vectorizer._tfidf.idf_, weights[ordered[1]:])
    tables = _kernel.Kernel(
        _table(word.short_tokens), word.long_tokens,
        np.asarray(kinds, dtype=np.int64), np.asarray(ordered, dtype=np.int64), weights, tf,
        word.low, word.high, word.n_ids, word_columns.direct(word.unigram_columns),
        word_columns.table(word.tables.get(2)), word_columns.table(word.tables.get(3)),
        char.low, char.high, char_columns.direct(char.unigrams),
        char_columns.table(char.tables.get(2)), char_columns.table(char.tables.get(3)),
        char.closed,
        _phrases(*style_phrases), _phrases(*_bait_phrases()), len(PHRASE_GROUPS),
        _pairs(_VAGUE_STARTS), _codes(_QUESTION_ENDS), _codes(_CLASSIFIERS), _codes(_QUOTES))
    return _Compiled(classifier.coef_, float(classifier.intercept_[0]), tables,
                     word.segmenter.backend)


class _ColumnData:
    """The kernel's records of one TF-IDF block: each column's float32 idf and
    its weight (``weights[column]``: the block's slice of the classifier's)."""

    def __init__(self, idf: np.ndarray, weights: np.ndarray):
        self.idf, self.weights = idf.astype(np.float32), weights

    def _fill(self, records: np.ndarray, columns: np.ndarray) -> None:
        records["column"] = columns
        present = columns >= 0
        records["idf"][present] = self.idf[columns[present]]
        records["weight"][present] = self.weights[columns[present]]

    def direct(self, columns: np.ndarray):
        """A direct table: index -> the record of ``columns[index]`` (-1: none)."""
        records = np.zeros(len(columns), dtype=COLUMN)
        self._fill(records, columns)
        return _kernel.Columns(records)

    def table(self, table: fast_features.KeyTable | None):
        """``table`` (n-gram key -> column) with the columns' records as values,
        at half its spread: a slot is 24 bytes instead of 16."""
        table = fast_features.KeyTable(*(table.items() if table is not None else ([], [])),
                                       spread=TABLE_SPREAD)
        slots = np.zeros(len(table._keys), dtype=SLOT)
        slots["key"] = table._keys
        self._fill(slots, table._values)
        return _kernel.ColumnTable(slots, table._shift, table._mask)


def _codes(chars: str) -> np.ndarray:
    return np.fromiter(map(ord, chars), dtype=np.int64, count=len(chars))


def _pairs(starts: tuple[str, ...]) -> np.ndarray:
    if any(not 1 <= len(s) <= 2 for s in starts):
        raise ValueError("the kernel matches vague starts of one or two characters")
    return np.asarray([c for s in starts for c in (ord(s[0]), ord(s[1]) if len(s) > 1 else -1)],
                      dtype=np.int64)


def _table(table: fast_features.KeyTable | None):
    if table is None:
        table = fast_features.KeyTable([], [])
    slots = np.column_stack([table._keys, table._values]).ravel()
    return _kernel.KeyTable(slots, table._shift, table._mask)


def _style_phrases() -> tuple[list[str], list[list[int]]]:
    """StyleFeatures' phrases (matched on the original text) and their owners:
    0 = bait phrases, 1 = gossip terms; a phrase listed twice counts twice."""
    owners: dict[str, list[int]] = {}
    for owner, phrases in enumerate((BAIT_PHRASES, GOSSIP_TERMS)):
        for phrase in phrases:
            owners.setdefault(phrase, []).append(owner)
    return list(owners), list(owners.values())


def _bait_phrases() -> tuple[list[str], list[list[int]]]:
    """BaitFeatures' distinct lower-cased phrases and the groups each is in."""
    phrase_set, incidence = _phrase_table()
    incidence = incidence.tocsr()
    return list(phrase_set.phrases), [incidence.indices[incidence.indptr[i]:
                                                         incidence.indptr[i + 1]].tolist()
                                      for i in range(incidence.shape[0])]


def _hash(phrase: str) -> int:
    """The kernel's key of a phrase of 4 or more characters (FNV-1a, 62 bits)."""
    hashed = _FNV_OFFSET
    for char in phrase:
        hashed = ((hashed ^ ord(char)) * _FNV_PRIME) & _MASK64
    return hashed >> 2


def _phrases(phrases: list[str], owners: list[list[int]]):
    short = [(i, p) for i, p in enumerate(phrases) if len(p) <= 3]
    long = [(i, p) for i, p in enumerate(phrases) if len(p) > 3]
    long_keys = [_hash(p) for _, p in long]
    if len(set(long_keys)) != len(long_keys):
        raise ValueError("two bait phrases share a kernel hash")
    if any(len(p) > 64 for p in phrases):
        raise ValueError("the kernel matches phrases of at most 64 characters")
    starts = np.cumsum([0] + [len(p) for p in phrases]).astype(np.int64)
    owner_starts = np.cumsum([0] + [len(o) for o in owners]).astype(np.int64)
    first = np.zeros(BMP, dtype=np.uint64)  # code point -> bit n - 1: a phrase of n starts so
    any_first = 0  # the same for the other code points: every length
    for phrase in phrases:
        bit = 1 << (len(phrase) - 1)
        any_first |= bit
        if ord(phrase[0]) < BMP:
            first[ord(phrase[0])] |= np.uint64(bit)
    return _kernel.Phrases(
        _table(fast_features.KeyTable([_pack(p) for _, p in short], [i for i, _ in short])),
        _table(fast_features.KeyTable(long_keys, [i for i, _ in long])),
        np.fromiter((ord(c) for p in phrases for c in p), dtype=np.int64), starts,
        owner_starts, np.asarray([g for o in owners for g in o], dtype=np.int64), first,
        any_first, np.zeros(len(phrases), dtype=np.int64))
