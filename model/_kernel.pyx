# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled scoring kernel: the clickbait log-odds of a batch in one pass per headline.

Computes, for each headline, what ``features @ weights + intercept`` gives
for the matrix of ``model.fast_features.transform`` (word and character
TF-IDF, style and bait-style blocks), without building any matrix: each
block's columns are found with the same lookup tables (model/kernel.py
builds them from the compiled union; a slot holds the column's idf and
weight beside its key, and each headline's lookups are prefetched before
they are read, so that their cache misses overlap), weighted with scikit-learn's own
arithmetic (float32 ``log(tf) + 1`` from a table numpy computed, times the
float32 idf, L2 norm accumulated in double as sparsefuncs_fast does), and
added to the log-odds (repeats counted with a hash set, in the order met).
tests/test_core_fast_path.py checks the probabilities against scikit-learn's
pipeline to 1e-9.
"""

from libc.math cimport exp, sqrt
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

cimport cython
import numpy as np

cdef extern from *:
    void __builtin_prefetch(const void* address) nogil  # GCC, clang: a hint, no effect on results

cdef extern from "Python.h":
    bint Py_UNICODE_ISDECIMAL(Py_UCS4 ch) nogil  # str.isdecimal(), regex \d: category Nd
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch) nogil  # str.isspace() of one character

cdef uint64_t MULTIPLIER = 0x9E3779B97F4A7C15ULL
cdef int BITS = 21


ctypedef struct Column:  # what scoring needs of one TF-IDF column (model.kernel.COLUMN)
    int32_t column       # -1: not in the vocabulary
    float idf
    double weight        # the classifier's weight of the column


ctypedef struct Slot:    # a ColumnTable slot (model.kernel.SLOT)
    int64_t key          # -1: empty
    Column value


cdef class KeyTable:
    """A :class:`model.fast_features.KeyTable` (int64 -> int64, -1 absent), its
    keys and values interleaved (``slots``: key, value, key, value ...) so that
    a lookup reads one cache line."""
    cdef const int64_t[::1] slots
    cdef int shift
    cdef uint64_t mask

    def __init__(self, slots, int shift, uint64_t mask):
        self.slots, self.shift, self.mask = slots, shift, mask

    cdef inline void prefetch(self, int64_t key) noexcept nogil:
        """Start loading the slot where ``get(key)`` will begin."""
        __builtin_prefetch(&self.slots[2 * (((<uint64_t>key * MULTIPLIER) >> self.shift)
                                            & self.mask)])

    cdef inline int64_t get(self, int64_t key) noexcept nogil:
        cdef uint64_t slot = ((<uint64_t>key * MULTIPLIER) >> self.shift) & self.mask
        cdef int64_t stored
        while True:
            stored = self.slots[2 * slot]
            if stored == key:
                return self.slots[2 * slot + 1]
            if stored == -1:
                return -1
            slot = (slot + 1) & self.mask


cdef class ColumnTable:
    """A KeyTable whose values are :c:type:`Column` records (``slots``: a
    structured array of model.kernel.SLOT), so that one lookup brings the
    column, its idf and its weight in the same cache line."""
    cdef object slots
    cdef const Slot* data
    cdef int shift
    cdef uint64_t mask
    cdef Column absent

    def __init__(self, slots, int shift, uint64_t mask):
        if slots.dtype.itemsize != sizeof(Slot) or slots.shape[0] != mask + 1:
            raise ValueError("slots must be model.kernel.SLOT records, one per slot")
        cdef const unsigned char[::1] raw = slots.view(np.uint8)
        self.slots, self.shift, self.mask = slots, shift, mask
        self.data = <const Slot*>&raw[0]
        self.absent.column, self.absent.idf, self.absent.weight = -1, 0.0, 0.0

    cdef inline void prefetch(self, int64_t key) noexcept nogil:
        """Start loading the slot where ``get(key)`` will begin."""
        __builtin_prefetch(&self.data[((<uint64_t>key * MULTIPLIER) >> self.shift) & self.mask])

    cdef inline const Column* get(self, int64_t key) noexcept nogil:
        cdef uint64_t slot = ((<uint64_t>key * MULTIPLIER) >> self.shift) & self.mask
        while True:
            if self.data[slot].key == key:
                return &self.data[slot].value
            if self.data[slot].key == -1:
                return &self.absent
            slot = (slot + 1) & self.mask


cdef class Columns:
    """A direct table of :c:type:`Column` records (``records``: a structured
    array of model.kernel.COLUMN), index -> record."""
    cdef object records
    cdef const Column* data
    cdef int64_t size

    def __init__(self, records):
        if records.dtype.itemsize != sizeof(Column) or records.shape[0] == 0:
            raise ValueError("records must be model.kernel.COLUMN records, at least one")
        cdef const unsigned char[::1] raw = records.view(np.uint8)
        self.records, self.size = records, records.shape[0]
        self.data = <const Column*>&raw[0]


cdef class Phrases:
    """Which phrases of a fixed list occur in a text; each phrase adds one to
    its groups (``owner_starts``/``owners``: CSR, phrase -> groups). Phrases of
    up to 3 characters are packed keys; longer ones a hash, then compared.
    ``first[c]`` has bit n - 1 set if a phrase of n characters starts with the
    BMP code point c (``any_first``: the lengths of all phrases, for the other
    code points), so that only those lengths are looked up at a position;
    the keys of the lengths grow one character at a time."""
    cdef KeyTable short, long
    cdef const int64_t[::1] codes        # every phrase's code points, concatenated
    cdef const int64_t[::1] starts       # phrase i: codes[starts[i]:starts[i + 1]]
    cdef const int64_t[::1] owner_starts
    cdef const int64_t[::1] owners
    cdef const uint64_t[::1] first       # per BMP code point: the lengths starting with it
    cdef uint64_t any_first
    cdef int64_t[::1] seen               # per phrase: the last count() that found it
    cdef int64_t generation

    def __init__(self, KeyTable short, KeyTable long, codes, starts, owner_starts, owners,
                 first, uint64_t any_first, seen):
        self.short, self.long, self.first, self.any_first = short, long, first, any_first
        self.codes, self.starts = codes, starts
        self.owner_starts, self.owners = owner_starts, owners
        self.seen = seen
        self.generation = 0

    cdef void count(self, const int64_t[::1] text, int64_t start, int64_t end,
                    int64_t* groups) noexcept nogil:
        """Add each distinct phrase found in text[start:end] to ``groups``."""
        cdef int64_t i, n, key, phrase, q, mark
        cdef uint64_t hashed, lengths
        cdef bint same
        self.generation += 1
        mark = self.generation
        for i in range(start, end):
            lengths = self.first[text[i]] if text[i] < self.first.shape[0] else self.any_first
            key = 0
            hashed = 1469598103934665603ULL  # FNV-1a of text[i:i + n], n = 1, 2 ...
            n = 0
            while lengths and i + n < end:
                if n < 3:  # a packed key holds 3 characters
                    key = (key << BITS) | text[i + n]
                hashed = (hashed ^ <uint64_t>text[i + n]) * 1099511628211ULL
                n += 1
                if not lengths & 1:
                    lengths >>= 1
                    continue
                lengths >>= 1
                if n <= 3:
                    phrase = self.short.get(key)
                else:
                    phrase = self.long.get(<int64_t>(hashed >> 2))
                    if phrase >= 0:
                        same = self.starts[phrase + 1] - self.starts[phrase] == n
                        q = 0
                        while same and q < n:
                            same = self.codes[self.starts[phrase] + q] == text[i + q]
                            q += 1
                        if not same:
                            phrase = -1
                if phrase >= 0 and self.seen[phrase] != mark:
                    self.seen[phrase] = mark
                    for q in range(self.owner_starts[phrase], self.owner_starts[phrase + 1]):
                        groups[self.owners[q]] += 1


cdef class Kernel:
    """One model's tables. Blocks: 0 word, 1 char, 2 style, 3 bait; ``order``
    lists them as the union does, ``offsets`` their first column."""
    cdef KeyTable short_tokens        # packed token of 1-3 BMP characters -> id + 4
    cdef dict long_tokens             # any other token of the vocabulary -> id
    cdef const int64_t[::1] order
    cdef const int64_t[::1] offsets
    cdef const double[::1] weights    # style and bait blocks (word and char: in their records)
    cdef const float[::1] tf          # log(count) + 1, float32, index = count
    # word block
    cdef int64_t word_low, word_high, n_ids
    cdef Columns word_unigrams        # token id -> record
    cdef ColumnTable word_bigrams, word_trigrams
    # char block
    cdef int64_t char_low, char_high
    cdef Columns char_unigrams        # code point -> record; the last: any later one
    cdef ColumnTable char_bigrams, char_trigrams
    cdef bint char_closed  # every kept n-gram's two (n-1)-grams are kept too
    # style and bait
    cdef Phrases style_phrases, bait_phrases
    cdef int64_t n_groups
    cdef const int64_t[::1] vague_starts  # pairs (first, second or -1)
    cdef const int64_t[::1] question_ends
    cdef const int64_t[::1] classifiers
    cdef const int64_t[::1] quotes
    cdef bint too_long

    def __init__(self, KeyTable short_tokens, dict long_tokens, order, offsets, weights, tf,
                 word_low, word_high, n_ids,
                 Columns word_unigrams, ColumnTable word_bigrams, ColumnTable word_trigrams,
                 char_low, char_high, Columns char_unigrams, ColumnTable char_bigrams,
                 ColumnTable char_trigrams, char_closed, Phrases style_phrases,
                 Phrases bait_phrases, n_groups, vague_starts, question_ends, classifiers,
                 quotes):
        self.short_tokens, self.long_tokens = short_tokens, long_tokens
        self.order, self.offsets, self.weights, self.tf = order, offsets, weights, tf
        self.word_low, self.word_high, self.n_ids = word_low, word_high, n_ids
        self.word_unigrams = word_unigrams
        self.word_bigrams, self.word_trigrams = word_bigrams, word_trigrams
        self.question_ends, self.classifiers, self.quotes = question_ends, classifiers, quotes
        self.char_low, self.char_high, self.char_unigrams = char_low, char_high, char_unigrams
        self.char_bigrams, self.char_trigrams = char_bigrams, char_trigrams
        self.char_closed = char_closed
        self.style_phrases, self.bait_phrases, self.n_groups = (style_phrases, bait_phrases,
                                                                n_groups)
        self.vague_starts = vague_starts

    def log_odds(self, str lower_text, str original_text, list tokens, int64_t n_texts,
                 double[::1] out) -> bool:
        """``out[i]`` = the log-odds sum of headline i (without the intercept).

        ``lower_text`` / ``original_text``: the lower-cased / original headlines
        joined by newlines (none has one of its own); ``tokens``: the
        segmenter's tokens of ``lower_text``. False (``out`` unspecified) if
        the batch does not have ``n_texts`` texts in each, or a lower-cased
        text has two whitespace characters in a row (scikit-learn's character
        analyzer collapses them; the caller falls back).
        """
        cdef int64_t[::1] lower = _code_points(lower_text)
        cdef int64_t[::1] original = _code_points(original_text)
        cdef int64_t* ids = <int64_t*>malloc((len(tokens) + 1) * sizeof(int64_t))
        cdef int64_t* lower_starts = <int64_t*>malloc((n_texts + 1) * sizeof(int64_t))
        cdef int64_t* original_starts = <int64_t*>malloc((n_texts + 1) * sizeof(int64_t))
        cdef int64_t* token_starts = <int64_t*>malloc((n_texts + 1) * sizeof(int64_t))
        cdef int64_t* groups = <int64_t*>malloc((self.n_groups + 2) * sizeof(int64_t))
        cdef Column* grams = NULL
        cdef int64_t* counts = NULL
        cdef int32_t* slots = NULL
        cdef int64_t t, longest = 0
        cdef bint ok
        try:
            if not (ids and lower_starts and original_starts and token_starts and groups):
                raise MemoryError()
            ok = (_text_starts(lower, n_texts, lower_starts, True)
                  and _text_starts(original, n_texts, original_starts, False)
                  and self._token_ids(tokens, n_texts, ids, token_starts))
            self.too_long = False
            if ok:
                for t in range(n_texts):  # a text has fewer tokens than characters
                    longest = max(longest, lower_starts[t + 1] - lower_starts[t],
                                  token_starts[t + 1] - token_starts[t])
                # the n-grams of every length of one text, and their counts
                grams = <Column*>malloc((3 * longest + 4) * sizeof(Column))
                counts = <int64_t*>malloc((3 * longest + 4) * sizeof(int64_t))
                slots = <int32_t*>malloc(4 * (3 * longest + 4) * sizeof(int32_t))  # see _tfidf
                if not (grams and counts and slots):
                    raise MemoryError()
                self._score(lower, original, n_texts, lower_starts, original_starts, ids,
                            token_starts, grams, counts, slots, groups, out)
            return ok and not self.too_long
        finally:
            free(ids); free(grams); free(counts); free(slots); free(lower_starts)
            free(original_starts); free(token_starts); free(groups)

    cdef bint _token_ids(self, list tokens, int64_t n_texts, int64_t* ids,
                         int64_t* starts) except -1:
        """Token ids (whitespace tokens dropped) and each text's first token.

        A token of 1 to 3 BMP characters (97% of them) is found by its packed
        code points (``fast_features.WordBlock.short_tokens``: 16 bits per
        character, the length above them; the newline and whitespace tokens
        are there too, as the markers -2 and -1), without hashing the string;
        any other token by dict."""
        cdef int64_t i, n = 0, row = 0, key, found, length, shift, count = len(tokens)
        cdef object known
        cdef str text
        cdef Py_UCS4 char
        starts[0] = 0
        for i in range(count):  # the packed keys (-1: another token), their slots prefetched
            text = <str>tokens[i]
            length = len(text)
            key = length << 48 if 1 <= length <= 3 else -1
            shift = 32
            for char in text:
                if key < 0 or char >= 0x10000:
                    key = -1
                    break
                key |= (<int64_t>char) << shift
                shift -= 16
            ids[i] = key
            if key >= 0:
                self.short_tokens.prefetch(key)
        for i in range(count):  # ids[n] (n <= i) overwrites the key of token n
            key = ids[i]
            text = <str>tokens[i]
            if key >= 0:
                found = self.short_tokens.get(key)
                found = found - 4 if found >= 0 else 0
                if found == -2:  # the newline between two texts
                    row += 1
                    if row >= n_texts:
                        return False
                    starts[row] = n
                    continue
                if found == -1:  # a whitespace token
                    continue
            else:
                known = self.long_tokens.get(text)
                found = 0 if known is None else <int64_t>known
            if found == 0 and _blank(text):
                continue
            ids[n] = found
            n += 1
        if row != n_texts - 1:
            return False
        starts[n_texts] = n
        return True

    cdef void _score(self, const int64_t[::1] lower, const int64_t[::1] original,
                     int64_t n_texts, int64_t* lower_starts, int64_t* original_starts,
                     int64_t* ids, int64_t* token_starts, Column* grams, int64_t* counts,
                     int32_t* slots, int64_t* groups, double[::1] out) noexcept:
        cdef int64_t t, b
        cdef double total
        for t in range(n_texts):
            total = 0.0
            for b in range(self.order.shape[0]):
                if self.order[b] == 0:
                    total = self._word(ids, token_starts[t], token_starts[t + 1], grams,
                                       counts, slots, total)
                elif self.order[b] == 1:
                    total = self._char(lower, lower_starts[t], lower_starts[t + 1] - 1,
                                       grams, counts, slots, total)
                elif self.order[b] == 2:
                    total = self._style(original, original_starts[t],
                                        original_starts[t + 1] - 1, groups, total)
                else:
                    total = self._bait(lower, lower_starts[t], lower_starts[t + 1] - 1, groups,
                                       total)
            out[t] = total

    cdef double _word(self, int64_t* ids, int64_t start, int64_t end, Column* grams,
                      int64_t* counts, int32_t* slots, double total) noexcept:
        cdef int64_t i, n, key, found = 0
        cdef const Column* gram
        cdef ColumnTable table
        for n in range(self.word_low, self.word_high + 1):
            table = self.word_bigrams if n == 2 else self.word_trigrams
            for i in range(start, end - n + 1):  # the lookups below overlap their misses
                key = self._word_key(ids, i, n) if n > 1 else -1
                if key >= 0:
                    table.prefetch(key)
            for i in range(start, end - n + 1):
                if n == 1:
                    gram = &self.word_unigrams.data[ids[i]]
                else:
                    key = self._word_key(ids, i, n)
                    if key < 0:
                        continue
                    gram = table.get(key)
                if gram.column >= 0:
                    grams[found] = gram[0]
                    found += 1
        return self._tfidf(grams, counts, slots, found, total)

    cdef inline int64_t _word_key(self, int64_t* ids, int64_t i, int64_t n) noexcept nogil:
        """The packed key of the word n-gram at i (fast_features._pack_ids), -1
        if one of its tokens is unknown (no such n-gram is in the vocabulary)."""
        cdef int64_t q, key = 0
        for q in range(n):
            if ids[i + q] <= 0:
                return -1
            key = key * self.n_ids + ids[i + q]
        return key

    cdef double _char(self, const int64_t[::1] codes, int64_t start, int64_t end,
                      Column* grams, int64_t* counts, int32_t* slots, double total) noexcept:
        """With a closed vocabulary (CharBlock.closed: every kept n-gram longer
        than ``char_low`` has both of its (n-1)-grams kept), such an n-gram is
        looked up only where both were found (bit n-2 of ``known[i]``: the
        n-gram at i)."""
        cdef int64_t i, n, found = 0
        cdef int64_t top = self.char_unigrams.size - 1
        cdef const Column* gram
        cdef ColumnTable table
        cdef unsigned char known[1024]
        cdef bint track = self.char_closed and end - start <= 1024
        cdef unsigned char need
        for n in range(1, self.char_high + 1):
            need = 1 << (n - 2) if n > 1 else 0
            table = self.char_bigrams if n == 2 else self.char_trigrams
            for i in range(start, end - n + 1):  # the lookups below overlap their misses
                if n > 1 and not self._char_skipped(known, i - start, n, need, track):
                    table.prefetch(_char_key(codes, i, n))
            for i in range(start, end - n + 1):
                if n == 1:
                    gram = &self.char_unigrams.data[codes[i] if codes[i] < top else top]
                    if track:
                        known[i - start] = gram.column >= 0
                elif self._char_skipped(known, i - start, n, need, track):
                    continue
                else:
                    gram = table.get(_char_key(codes, i, n))
                    if n == 2 and track and gram.column >= 0:
                        known[i - start] |= 2
                if gram.column >= 0 and n >= self.char_low:
                    grams[found] = gram[0]
                    found += 1
        return self._tfidf(grams, counts, slots, found, total)

    cdef inline bint _char_skipped(self, unsigned char* known, int64_t at, int64_t n,
                                   unsigned char need, bint track) noexcept nogil:
        """True if the n-gram at ``at`` cannot be in a closed vocabulary: one of
        its two (n-1)-grams was not found (see :meth:`_char`)."""
        return track and n > self.char_low and not (known[at] & known[at + 1] & need)

    cdef double _tfidf(self, Column* grams, int64_t* counts, int32_t* slots, int64_t found,
                       double total) noexcept nogil:
        """Counts of the n-grams' columns, sublinear tf x idf in float32, L2
        normalised as sparsefuncs_fast does, added to ``total``.

        The distinct columns are found with a hash set of their positions
        (``slots``: room for 2 x ``found`` rounded up to a power of two),
        in the order first met, not sorted: the sums differ from scikit-
        learn's column order by rounding only (at most 1.4e-14 of a
        headline's log-odds on 20,000 pool headlines; the tests hold 1e-9)."""
        cdef int64_t i, k, distinct = 0
        cdef int bits = 4
        cdef uint32_t slot
        cdef int32_t at
        cdef double norm = 0.0
        cdef float weight
        while (1 << bits) < 2 * found:
            bits += 1
        memset(slots, 0xFF, (1 << bits) * sizeof(int32_t))
        for i in range(found):
            slot = (<uint32_t>grams[i].column * 2654435769U) >> (32 - bits)
            while True:
                at = slots[slot]
                if at < 0:  # a new column: kept at the front, counted once
                    slots[slot] = <int32_t>distinct
                    grams[distinct] = grams[i]
                    counts[distinct] = 1
                    distinct += 1
                    break
                if grams[at].column == grams[i].column:
                    counts[at] += 1
                    break
                slot = (slot + 1) & ((1U << bits) - 1)
        for k in range(distinct):
            if counts[k] >= self.tf.shape[0]:
                self.too_long = True  # a count past the tf table: the caller falls back
                return total
            weight = self.tf[counts[k]] * grams[k].idf
            norm += weight * weight
        if norm == 0.0:
            return total
        norm = sqrt(norm)
        for k in range(distinct):
            weight = <float>((self.tf[counts[k]] * grams[k].idf) / norm)
            total += <double>weight * grams[k].weight
        return total

    cdef double _style(self, const int64_t[::1] codes, int64_t start, int64_t end,
                       int64_t* groups, double total) noexcept nogil:
        # the literals are style_row's: ! ? … ... : 你 您, Latin A-Z a-z, Han U+4E00-U+9FFF
        cdef int64_t i, c, bangs = 0, questions = 0, latin = 0, han = 0
        cdef bint ellipsis = False, quote = False, colon = False, digit = False, you = False
        cdef double values[13]
        cdef int64_t length = end - start
        for i in range(start, end):
            c = codes[i]
            if 0x4E00 <= c <= 0x9FFF:  # Han (most characters): none of the others
                han += 1
                if c == 0x4F60 or c == 0x60A8:
                    you = True
                continue
            if c == 33:
                bangs += 1
            elif c == 63:
                questions += 1
            elif c == 0x2026 or (c == 46 and i + 2 < end and codes[i + 1] == 46
                                 and codes[i + 2] == 46):
                ellipsis = True
            elif _member(c, self.quotes):  # model.kernel checks no quote is Han
                quote = True
            elif c == 58:
                colon = True
            if (65 <= c <= 90) or (97 <= c <= 122):
                latin += 1
            if not digit and (48 <= c <= 57 or (c >= 0x660
                                                and Py_UNICODE_ISDECIMAL(<Py_UCS4>c))):
                digit = True  # no decimal digit (Nd) below U+0660 but ASCII's, none Han
        groups[0] = 0
        groups[1] = 0
        self.style_phrases.count(codes, start, end, groups)
        values[0] = (bangs if bangs < 2 else 2) / 2.0
        values[1] = (questions if questions < 2 else 2) / 2.0
        values[2] = 1.0 if ellipsis else 0.0
        values[3] = 1.0 if quote else 0.0
        values[4] = 1.0 if colon else 0.0
        values[5] = 1.0 if digit else 0.0
        values[6] = latin / <double>(length if length > 1 else 1)
        values[7] = 1.0 if you else 0.0
        values[8] = (groups[0] if groups[0] < 3 else 3) / 3.0
        values[9] = (groups[1] if groups[1] < 3 else 3) / 3.0
        values[10] = 1.0 if han < 12 else 0.0
        values[11] = 1.0 if 12 <= han < 24 else 0.0
        values[12] = 1.0 if han >= 24 else 0.0
        for i in range(13):
            if values[i] != 0.0:
                total += values[i] * self.weights[self.offsets[2] + i]
        return total

    cdef double _bait(self, const int64_t[::1] codes, int64_t start, int64_t end,
                      int64_t* groups, double total) noexcept nogil:
        cdef int64_t g, i, last, count
        cdef bint pair = False, vague = False
        for g in range(self.n_groups):
            groups[g] = 0
        self.bait_phrases.count(codes, start, end, groups)
        for g in range(self.n_groups):
            count = groups[g] if groups[g] < 2 else 2
            if count:
                total += (count / 2.0) * self.weights[self.offsets[3] + g]
        last = codes[end - 1] if end > start else -1
        for i in range(start, end - 1):
            if 48 <= codes[i] <= 57 and _member(codes[i + 1], self.classifiers):
                pair = True
                break
        for i in range(0, self.vague_starts.shape[0], 2):
            if end > start and codes[start] == self.vague_starts[i] and (
                    self.vague_starts[i + 1] < 0
                    or (end - start > 1 and codes[start + 1] == self.vague_starts[i + 1])):
                vague = True
                break
        g = self.offsets[3] + self.n_groups
        if _member(last, self.question_ends):
            total += self.weights[g]
        if last == 33:
            total += self.weights[g + 1]
        if pair:
            total += self.weights[g + 2]
        if vague:
            total += self.weights[g + 3]
        return total


cdef inline int64_t _char_key(const int64_t[::1] codes, int64_t i, int64_t n) noexcept nogil:
    """The packed key of the n-gram at i (fast_features._pack: 21 bits per character)."""
    cdef int64_t q, key = codes[i]
    for q in range(1, n):
        key = (key << BITS) | codes[i + q]
    return key


cdef inline bint _member(int64_t c, const int64_t[::1] chars) noexcept nogil:
    cdef int64_t i
    for i in range(chars.shape[0]):
        if chars[i] == c:
            return True
    return False


cdef bint _blank(str text):
    """True if ``text`` is not empty and all whitespace (str.isspace())."""
    cdef Py_UCS4 char
    for char in text:
        if not Py_UNICODE_ISSPACE(char):
            return False
    return len(text) > 0


cdef int64_t[::1] _code_points(str text):
    """The code points of ``text`` (and one more slot), int64."""
    cdef Py_ssize_t i, n = len(text)
    cdef int64_t[::1] codes = cython.view.array(shape=(n + 1,), itemsize=sizeof(int64_t),
                                                 format="q")
    for i in range(n):
        codes[i] = text[i]
    codes[n] = 10
    return codes[:n]


cdef bint _text_starts(const int64_t[::1] codes, int64_t n_texts, int64_t* starts,
                       bint single_spaces) noexcept:
    """starts[i]: first position of text i; starts[n] = len + 1 (as if a newline
    followed). False if there are not ``n_texts`` texts, or (``single_spaces``)
    a text has two whitespace characters in a row."""
    cdef int64_t i, row = 0
    cdef bint space, previous = False
    starts[0] = 0
    for i in range(codes.shape[0]):
        if codes[i] == 10:
            row += 1
            if row >= n_texts:
                return False
            starts[row] = i + 1
            previous = False
            continue
        space = Py_UNICODE_ISSPACE(<Py_UCS4>codes[i])
        if single_spaces and space and previous:
            return False
        previous = space
    starts[n_texts] = codes.shape[0] + 1
    return row == n_texts - 1


@cython.boundscheck(False)
@cython.wraparound(False)
def logistic(double[::1] values, double intercept, double a, double b) -> None:
    """``values[i] <- 1 / (1 + exp(-(a * (values[i] + intercept) + b)))`` in place:
    the classifier's intercept and its Platt calibration of log-odds sums, as
    ``HeadlineClassifier._calibrate`` computes them with numpy (to an ulp)."""
    cdef Py_ssize_t i
    for i in range(values.shape[0]):
        values[i] = 1.0 / (1.0 + exp(-(a * (values[i] + intercept) + b)))
