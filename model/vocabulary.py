"""Fitting the TF-IDF blocks of :func:`model.features.build_features`, vectorised.

:func:`fit_transform` does what ``vectorizer.fit_transform(texts)`` does for
the word and character TF-IDF vectorizers the feature union is made of (the
same ``vocabulary_``, ``idf_`` and result matrix; tests/test_core_fast_path.py
compares them with scikit-learn's), without scikit-learn's Python loop over
every n-gram of every headline, which was half of a training run:

- each n-gram is an integer key (character n-grams: 21 bits per character,
  as :mod:`model.fast_features` packs them; word n-grams: token ids as digits
  in base "number of distinct tokens");
- one sort per n-gram length gives every (headline, n-gram) pair with its
  count, hence the document frequencies, the ``min_df`` cut and the count
  matrix at once;
- only the n-grams kept become strings, sorted as scikit-learn sorts its
  vocabulary; scikit-learn's own ``TfidfTransformer`` then computes ``idf_``
  and weighs the counts.

A vectorizer with options this module does not reproduce (``max_df`` below
1, ``max_features``, ``binary``, another analyzer or tokenizer, a fixed
vocabulary, text with unpaired surrogates) is fitted by scikit-learn.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

from model.fast_features import _BITS, _has_whitespace_runs
from model.features import Segmenter, _cut_function
from model.textarrays import SEPARATOR, code_points

_CHAR_MASK = (1 << _BITS) - 1


def fit_transform(vectorizer, texts: list[str]) -> sp.csr_matrix:
    """``vectorizer.fit_transform(texts)``, vectorised where this module can."""
    counted = _counts(vectorizer, texts) if _reproducible(vectorizer) else None
    if counted is None:
        return vectorizer.fit_transform(texts)
    vocabulary, counts = counted
    vectorizer._validate_params()
    vectorizer._validate_ngram_range()
    vectorizer._validate_vocabulary()
    vectorizer._check_params()
    vectorizer._tfidf = TfidfTransformer(norm=vectorizer.norm, use_idf=vectorizer.use_idf,
                                         smooth_idf=vectorizer.smooth_idf,
                                         sublinear_tf=vectorizer.sublinear_tf)
    vectorizer.vocabulary_ = vocabulary
    vectorizer._tfidf.fit(counts)
    return vectorizer._tfidf.transform(counts, copy=False)


def _reproducible(vectorizer) -> bool:
    word = vectorizer.analyzer == "word" and type(vectorizer.tokenizer) is Segmenter
    return (type(vectorizer) is TfidfVectorizer and (word or vectorizer.analyzer == "char")
            and vectorizer.vocabulary is None and vectorizer.input == "content"
            and vectorizer.preprocessor is None and vectorizer.strip_accents is None
            and vectorizer.stop_words is None and not vectorizer.binary
            and vectorizer.max_features is None
            and isinstance(vectorizer.min_df, Integral) and vectorizer.max_df == 1.0
            and vectorizer.ngram_range[1] <= 3
            and np.issubdtype(np.dtype(vectorizer.dtype), np.floating))


def _counts(vectorizer, texts: list[str]) -> tuple[dict[str, int], sp.csr_matrix] | None:
    """(vocabulary, count matrix (n texts, n terms) in the vectorizer's dtype), or None."""
    texts = [text.lower() for text in texts] if vectorizer.lowercase else list(texts)
    low, high = vectorizer.ngram_range
    if vectorizer.analyzer == "char":
        grams = _char_grams(vectorizer, texts, low, high)
    else:
        grams = _word_grams(vectorizer.tokenizer, texts, low, high)
    if grams is None:
        return None
    counter = _PairCounter(len(texts), vectorizer.min_df)
    for rows, keys, name in grams:
        counter.add(rows, keys, name)
    return counter.result(vectorizer.dtype)


def _char_grams(vectorizer, texts: list[str], low: int, high: int):
    """Per n: (rows, packed keys, keys -> terms) of every character n-gram."""
    points = code_points(texts)
    if points is not None and _has_whitespace_runs(points):
        points = code_points([vectorizer._white_spaces.sub(" ", text) for text in texts])
    if points is None:
        return None
    grams, keys = [], points.codes
    for n in range(1, high + 1):
        if n > 1:
            keys = (keys[:-1] << _BITS) | points.codes[n - 1:]
        if n >= low:
            inside = points.inside(n)
            grams.append((points.rows[:len(inside)][inside], keys[inside],
                          lambda keys, n=n: _unpack(keys, n)))
    return grams


def _unpack(keys: np.ndarray, n: int) -> list[str]:
    """The n-character strings packed in ``keys`` (k,)."""
    shifts = _BITS * np.arange(n - 1, -1, -1, dtype=np.int64)
    codes = ((keys[:, None] >> shifts) & _CHAR_MASK).astype(np.uint32)
    if not codes.all():  # numpy's str dtype would drop a trailing U+0000
        return ["".join(map(chr, row)) for row in codes.tolist()]
    return codes.view(f"<U{n}").ravel().tolist()


def _word_grams(segmenter: Segmenter, texts: list[str], low: int, high: int):
    """Per n: (rows, keys, keys -> terms) of every word n-gram, the tokens as
    the Segmenter gives them headline by headline (None if a kept token has
    whitespace inside, which would make "a b" ambiguous)."""
    tokens, rows = _tokens(segmenter, texts)
    names: dict[str, int] = {}
    ids = np.fromiter((names.setdefault(token, len(names)) for token in tokens),
                      dtype=np.int64, count=len(tokens))
    vocabulary = list(names)
    if any(any(char.isspace() for char in token) for token in vocabulary):
        return None
    base = max(len(vocabulary), 1)
    if base ** high >= 2 ** 62:
        return None
    grams, keys, same = [], ids, np.ones(len(ids), dtype=bool)
    for n in range(1, high + 1):
        if n > 1:
            keys = keys[:-1] * base + ids[n - 1:]
            same = same[:-1] & (rows[:1 - n] == rows[n - 1:])
        if n >= low:
            grams.append((rows[:len(same)][same], keys[same],
                          lambda keys, n=n: [_term(int(key), n, base, vocabulary)
                                             for key in keys]))
    return grams


def _term(key: int, n: int, base: int, vocabulary: list[str]) -> str:
    parts = []
    for _ in range(n):
        key, token = divmod(key, base)
        parts.append(vocabulary[token])
    return " ".join(reversed(parts))


def _tokens(segmenter: Segmenter, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Every headline's tokens (whitespace dropped) and the headline of each,
    from one segmenter call on the newline-joined batch when that gives the
    same tokens (jieba and rjieba cut each newline-free stretch on its own)."""
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) == len(texts) - 1:
        cut = _cut_function(segmenter.backend)(joined)
        if cut.count(SEPARATOR) == len(texts) - 1:
            separators = np.fromiter((token == SEPARATOR for token in cut), dtype=bool,
                                     count=len(cut))
            kept = np.fromiter((not token.isspace() for token in cut), dtype=bool,
                               count=len(cut))
            rows = np.cumsum(separators)[kept]
            return [token for token, keep in zip(cut, kept) if keep], rows
    tokens, rows = [], []
    for row, text in enumerate(texts):
        found = segmenter(text)
        tokens += found
        rows += [row] * len(found)
    return tokens, np.asarray(rows, dtype=np.int64)


class _PairCounter:
    """Counts (headline, n-gram) pairs, n-gram length by length, and keeps the
    n-grams found in at least ``min_df`` headlines."""

    def __init__(self, n_texts: int, min_df: int):
        self.n_texts, self.min_df = n_texts, min_df
        self.terms: list[str] = []
        self.rows, self.locals, self.counts = [], [], []

    def add(self, rows: np.ndarray, keys: np.ndarray, names) -> None:
        """Count the n-grams ``keys`` (int64, one per occurrence) of headlines
        ``rows``; ``names`` turns an array of keys into their terms."""
        if not len(keys):
            return
        distinct, inverse = np.unique(keys, return_inverse=True)
        pairs, counts = np.unique(rows * len(distinct) + inverse, return_counts=True)
        pair_rows, pair_terms = np.divmod(pairs, len(distinct))
        frequency = np.bincount(pair_terms, minlength=len(distinct))
        kept = np.flatnonzero(frequency >= self.min_df)
        local = np.full(len(distinct), -1, dtype=np.int64)
        local[kept] = np.arange(len(kept)) + len(self.terms)
        self.terms += names(distinct[kept])
        hit = local[pair_terms] >= 0
        # int32 (rows, terms and counts all fit): at 4x the corpora these are
        # tens of millions of pairs, kept until every length is counted.
        self.rows.append(pair_rows[hit].astype(np.int32))
        self.locals.append(local[pair_terms[hit]].astype(np.int32))
        self.counts.append(counts[hit].astype(np.int32))

    def result(self, dtype) -> tuple[dict[str, int], sp.csr_matrix] | None:
        if not self.terms:
            return None  # scikit-learn raises its own error for an empty vocabulary
        order = _code_point_order(self.terms)
        column = np.empty(len(order), dtype=np.int32)
        column[order] = np.arange(len(order), dtype=np.int32)
        vocabulary = dict(zip(map(self.terms.__getitem__, order.tolist()), range(len(order))))
        rows = np.concatenate(self.rows)
        columns = column[np.concatenate(self.locals)]
        counts = np.concatenate(self.counts).astype(dtype)
        self.rows, self.locals, self.counts = [], [], []
        # Each (row, column) pair occurs once: tocsr orders by row (a counting
        # sort) and sorts each row's columns as it sums duplicates (none here):
        # the canonical matrix, without a lexsort of every pair.
        return vocabulary, sp.coo_matrix((counts, (rows, columns)),
                                         shape=(self.n_texts, len(vocabulary))).tocsr()


def _code_point_order(terms: list[str]) -> np.ndarray:
    """The permutation that sorts ``terms`` as Python's ``sorted`` does (by
    code point). numpy sorts its str arrays the same way, but pads them with
    U+0000, so "g" and "g\\x00" tie there: terms with one go through sorted."""
    if "\x00" in "".join(terms):
        return np.asarray(sorted(range(len(terms)), key=terms.__getitem__), dtype=np.int64)
    return np.argsort(np.array(terms))


def fit_union(union, texts: list[str]) -> sp.csr_matrix:
    """``union.fit_transform(texts)`` for a union of :func:`model.features.build_features`
    (no transformer weights), each TF-IDF part fitted by :func:`fit_transform`."""
    parts = [fit_transform(transformer, texts) if isinstance(transformer, TfidfVectorizer)
             else transformer.fit_transform(texts)
             for _, transformer in union.transformer_list]
    return sp.hstack(parts).tocsr()
