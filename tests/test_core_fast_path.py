"""The vectorised scoring and fitting paths equal the plain definitions they replace.

model.normalize.normalize_many, StyleFeatures.transform and
model.fast_features.transform are batch shortcuts; each must give exactly
what the one-by-one definition gives (normalize, transform_one_by_one,
FeatureUnion.transform), on real headlines and on hostile strings. So must
the training shortcuts: model.vocabulary.fit_union (FeatureUnion.fit_transform)
and the topic prior's counts (MultinomialNB). The compiled kernel
(model.kernel) must give scikit-learn's log-odds to 1e-9, or decline.
"""

from __future__ import annotations

import json
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn.naive_bayes import MultinomialNB

from model import fast_features, kernel, load_model
from model.adaptation import adapt_to_labels
from model.bait_style import BaitFeatures
from model.classifier import TopicPrior
from model.features import StyleFeatures, build_features
from model.vocabulary import fit_union
from model.normalize import normalize, normalize_many
from training.locations import data_dir

# Characters that exercise every special case: newlines and other whitespace,
# invisible and combining characters, full-width and compatibility forms,
# case changes that alter the length (İ) or depend on context (Σ), digits of
# other scripts, characters outside the BMP, bait phrases and style marks.
HOSTILE = ("\x00\n\r\t \u3000\xa0\u2028\x0b\x1c\x85\u200b\u200d\ufeff\u0301\u0308\u0345"
           "eEaZİΣσς\u1100\u1161가ＡＢ１！？，：…「」“”\".:!?٣𝟘😀𠀀ﬁ㍿①²"
           "體育頭條明星网友竟然你您这个时装周万万没想到春夏系列吗呢他种3ugG")
texts_strategy = st.lists(st.text(alphabet=st.sampled_from(HOSTILE), max_size=12),
                          min_size=1, max_size=6)


@pytest.fixture(scope="module")
def bundled():
    return load_model()


@pytest.fixture(scope="module")
def unlabeled() -> list[str]:
    path = data_dir() / "unlabeled" / "tnews_unlabeled.json"
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["sentence"] for _, line in zip(range(3000), handle)]


PATHS = {"vectorised": 0, "per-headline": 10**9}  # fast_features.SMALL_BATCH of each path


def assert_same_matrix(fast, reference) -> None:
    assert fast.shape == reference.shape
    assert fast.dtype == reference.dtype
    assert np.array_equal(fast.indptr, reference.indptr)
    assert np.array_equal(fast.indices, reference.indices)
    assert np.array_equal(fast.data, reference.data)


def test_batch_normalisation_equals_one_by_one_on_real_headlines(unlabeled):
    assert normalize_many(unlabeled) == [normalize(t) for t in unlabeled]


@settings(max_examples=300, deadline=None)
@given(texts_strategy)
def test_batch_normalisation_equals_one_by_one_on_hostile_text(texts):
    assert normalize_many(texts) == [normalize(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(texts_strategy)
def test_vectorised_style_equals_per_headline(texts):
    style = StyleFeatures().fit(texts)
    assert np.array_equal(style.transform(texts).toarray(),
                          style.transform_one_by_one(texts).toarray())


@settings(max_examples=300, deadline=None)
@given(texts_strategy)
def test_vectorised_bait_groups_equal_per_headline(texts):
    bait = BaitFeatures().fit(texts)
    assert np.array_equal(bait.transform(texts).toarray(),
                          bait.transform_one_by_one(texts).toarray())


def test_vectorised_bait_groups_on_real_headlines(unlabeled):
    texts = normalize_many(unlabeled)
    bait = BaitFeatures().fit(texts)
    fast = bait.transform(texts)
    assert np.array_equal(fast.toarray(), bait.transform_one_by_one(texts).toarray())
    assert fast.nnz > len(texts)  # the groups do fire on real headlines


def test_fast_union_equals_sklearn_on_the_bundled_model(bundled, unlabeled):
    union = bundled.classifier.features_
    texts = normalize_many(unlabeled)
    assert fast_features.compiled(union) is not None, "the bundled model must take the fast path"
    for small_batch in PATHS.values():
        with mock.patch.object(fast_features, "SMALL_BATCH", small_batch):
            for batch in (texts[:1], texts[:7], texts[:500]):
                assert_same_matrix(fast_features.transform(union, batch), union.transform(batch))


@settings(max_examples=150, deadline=None)
@given(texts_strategy)
def test_fast_union_equals_sklearn_on_hostile_text(bundled, texts):
    union = bundled.classifier.features_
    reference = union.transform(texts)
    for small_batch in PATHS.values():
        with mock.patch.object(fast_features, "SMALL_BATCH", small_batch):
            assert_same_matrix(fast_features.transform(union, texts), reference)


@pytest.mark.parametrize("segmenter", ["rjieba", "jieba"])
def test_fast_union_equals_sklearn_for_other_settings(unlabeled, segmenter):
    """Another segmenter, no lower-casing, char n-grams from 2, word n-grams up to 3."""
    train = normalize_many(unlabeled[:1500])
    union = build_features(segmenter, word_ngrams=(1, 3), char_ngrams=(2, 3), min_df=2)
    union.transformer_list[1][1].set_params(lowercase=False)
    union.fit(train)
    test = normalize_many(unlabeled[1500:]) + ["ABC abc", "Σ", "\n\n"]
    for small_batch in PATHS.values():
        with mock.patch.object(fast_features, "SMALL_BATCH", small_batch):
            assert_same_matrix(fast_features.transform(union, test), union.transform(test))
            assert_same_matrix(fast_features.transform(union, test[-3:]),
                               union.transform(test[-3:]))


def test_refitted_union_is_recompiled(unlabeled):
    union = build_features(min_df=2).fit(normalize_many(unlabeled[:500]))
    first = fast_features.transform(union, unlabeled[:50])
    union.fit(normalize_many(unlabeled[500:1000]))
    second = fast_features.transform(union, unlabeled[:50])
    assert_same_matrix(second, union.transform(unlabeled[:50]))
    assert first.shape != second.shape or (first != second).nnz


def test_bundled_model_scores_match_the_unoptimised_definition(bundled, unlabeled):
    """p_clickbait as computed without the fast path: sklearn's transform, the
    float32 weights, the sigmoid of the calibrator."""
    classifier = bundled.classifier
    features = classifier.features_.transform(normalize_many(unlabeled))
    d = np.asarray(features @ classifier.coef_.T).ravel() + classifier.intercept_[0]
    a, b = classifier.calibrator_.coef_[0, 0], classifier.calibrator_.intercept_[0]
    reference = 1.0 / (1.0 + np.exp(-(a * d + b)))
    assert np.abs(bundled.predict_proba(unlabeled) - reference).max() < 1e-9
    one_by_one = np.concatenate([bundled.predict_proba([h]) for h in unlabeled[:300]])
    assert np.abs(one_by_one - reference[:300]).max() < 1e-9
    few = np.concatenate([bundled.predict_proba(unlabeled[i:i + 5]) for i in range(0, 300, 5)])
    assert np.abs(few - reference[:300]).max() < 1e-9


# -- the compiled kernel --------------------------------------------------------

def sklearn_log_odds(classifier, texts: list[str]) -> np.ndarray:
    """The reference: scikit-learn's union.transform, then the linear model."""
    features = classifier.features_.transform(texts)
    return (np.asarray(features @ classifier.coef_[0].astype(np.float64)).ravel()
            + float(classifier.intercept_[0]))


def declined(text: str, last: bool) -> bool:
    """The batches the kernel leaves to the vectorised path: a text with a
    newline, an unpaired surrogate or a run of whitespace, or one ending in
    a carriage return before the next text (the segmenter joins "\r\n")."""
    lower = text.lower()
    return ("\n" in text or any(0xD800 <= ord(c) < 0xE000 for c in text)
            or any(a.isspace() and b.isspace() for a, b in zip(lower, lower[1:]))
            or (text.endswith("\r") and not last))


def test_the_kernel_is_built_and_takes_the_bundled_model(bundled):
    assert kernel.available(), "model/_kernel.pyx was not compiled: pip install -e . with a C compiler"
    assert kernel.log_odds(bundled.classifier, ["国务院召开常务会议"]) is not None


def test_kernel_equals_sklearn_on_real_headlines(bundled, unlabeled):
    classifier = bundled.classifier
    texts = normalize_many(unlabeled)
    expected = sklearn_log_odds(classifier, texts)
    for batch in (slice(0, 1), slice(1, 6), slice(0, len(texts))):
        got = kernel.log_odds(classifier, texts[batch])
        np.testing.assert_allclose(got, expected[batch], rtol=0, atol=1e-9)
    one_by_one = np.concatenate([kernel.log_odds(classifier, [t]) for t in texts[:300]])
    np.testing.assert_allclose(one_by_one, expected[:300], rtol=0, atol=1e-9)


@settings(max_examples=300, deadline=None)
@given(texts_strategy)
def test_kernel_equals_sklearn_on_hostile_text_or_declines(bundled, texts):
    got = kernel.log_odds(bundled.classifier, texts)
    if got is None:  # the vectorised path serves these batches
        assert any(declined(text, last=i == len(texts) - 1) for i, text in enumerate(texts))
        return
    np.testing.assert_allclose(got, sklearn_log_odds(bundled.classifier, texts), rtol=0,
                               atol=1e-9)


def test_kernel_serves_a_model_adapted_to_labels(bundled, unlabeled):
    """A promoted retrain (new weights, same union) is scored by the kernel too,
    with its own weights, not the cached ones of the model it came from."""
    texts = normalize_many(unlabeled)
    labels = (np.arange(200) % 3 == 0).astype(int)
    adapted = adapt_to_labels(bundled.classifier, texts[:200], labels)
    base = kernel.log_odds(bundled.classifier, texts[200:800])
    got = kernel.log_odds(adapted, texts[200:800])
    assert got is not None and np.abs(got - base).max() > 1e-3
    np.testing.assert_allclose(got, sklearn_log_odds(adapted, texts[200:800]), rtol=0,
                               atol=1e-9)


class Linear:
    """What the kernel reads of a classifier: a fitted union and its weights."""

    def __init__(self, union, weights: np.ndarray, intercept: float):
        self.features_ = union
        self.coef_ = weights.astype(np.float32).reshape(1, -1)
        self.intercept_ = np.array([intercept], dtype=np.float32)

    def _scoring_weights(self) -> np.ndarray:
        return self.coef_[0].astype(np.float64)


@pytest.mark.parametrize("options", [
    {"segmenter": "jieba", "word_ngrams": (1, 3), "char_ngrams": (2, 3), "min_df": 2},
    {"word_ngrams": (2, 2), "char_ngrams": (1, 1)},
])
def test_kernel_equals_sklearn_for_other_settings(unlabeled, options):
    texts = normalize_many(unlabeled)
    union = build_features(**options)
    matrix = fit_union(union, texts[:1500])
    classifier = Linear(union, np.random.default_rng(0).normal(size=matrix.shape[1]), 0.25)
    np.testing.assert_allclose(kernel.log_odds(classifier, texts[1500:]),
                               sklearn_log_odds(classifier, texts[1500:]), rtol=0, atol=1e-9)


def test_kernel_declines_a_union_without_every_block(unlabeled):
    union = build_features(style=False)
    matrix = fit_union(union, normalize_many(unlabeled[:500]))
    classifier = Linear(union, np.ones(matrix.shape[1]), 0.0)
    assert kernel.log_odds(classifier, ["国务院召开常务会议"]) is None


@pytest.mark.parametrize("block, term", [
    ("word", "明星 八卦 新闻"),   # three tokens in a (1, 2) vocabulary
    ("word", "明星 \u3000八卦"),  # a token with whitespace in it
    ("char", "明星八卦"),        # four characters in a (1, 3) vocabulary
])
def test_a_vocabulary_the_tables_cannot_stand_for_falls_back_to_sklearn(unlabeled, block, term):
    texts = normalize_many(unlabeled[:500])
    union = build_features()
    fit_union(union, texts)
    vectorizer = dict(union.transformer_list)[block]
    # The term takes the place of column 0's, so the idf still fits.
    vectorizer.vocabulary_ = {**{t: c for t, c in vectorizer.vocabulary_.items() if c},
                              term: 0}
    assert fast_features.compiled(union) is None
    probe = texts[:20] + [term.replace(" ", "")]
    assert_same_matrix(fast_features.transform(union, probe), union.transform(probe).tocsr())


# -- fitting -------------------------------------------------------------------

def assert_same_fit(texts: list[str], **options) -> None:
    """fit_union on one union, scikit-learn's fit_transform on another: the same
    vocabularies, idf and matrix (scikit-learn leaves the column indices of a
    row unsorted; the matrix is the same)."""
    ours, reference = build_features(**options), build_features(**options)
    fast = fit_union(ours, texts)
    expected = reference.fit_transform(texts).tocsr().sorted_indices()
    for (name, mine), (_, theirs) in zip(ours.transformer_list, reference.transformer_list):
        if hasattr(theirs, "vocabulary_"):
            assert mine.vocabulary_ == theirs.vocabulary_, name
            assert mine.idf_.dtype == theirs.idf_.dtype
            assert np.array_equal(mine.idf_, theirs.idf_), name
    assert_same_matrix(fast, expected)
    assert np.array_equal(fast_features.transform(ours, texts[:50]).toarray(),
                          reference.transform(texts[:50]).toarray())


@pytest.mark.parametrize("options", [
    {},
    {"segmenter": "jieba", "min_df": 1},
    {"word_ngrams": (1, 1), "char_ngrams": (2, 3), "min_df": 2, "bait": False},
    {"word_ngrams": (2, 3), "char_ngrams": (1, 1), "style": False},
])
def test_vectorised_fit_equals_sklearn_on_real_headlines(unlabeled, options):
    assert_same_fit(normalize_many(unlabeled), **options)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(HOSTILE), min_size=1, max_size=12),
                min_size=2, max_size=12))
def test_vectorised_fit_equals_sklearn_on_hostile_text(texts):
    try:
        build_features(min_df=1).fit_transform(texts)
    except ValueError:  # nothing to learn (e.g. only whitespace): both refuse
        with pytest.raises(ValueError):
            fit_union(build_features(min_df=1), texts)
        return
    assert_same_fit(texts, min_df=1)


def test_topic_prior_folds_equal_multinomial_nb(unlabeled):
    """Each fold's naive Bayes (counts of all rows minus the fold's) is
    MultinomialNB fitted on the rows the fold keeps, to rounding."""
    texts = normalize_many(unlabeled)
    policy, topics = texts[:600], texts[300:]  # 300 shared: those leave their fold's prior
    categories = np.array(["a", "b", "c"])[np.arange(len(topics)) % 3]
    matrix = fit_union(build_features(), policy + topics)
    features, topic_features = matrix[:len(policy)], matrix[len(policy):]
    folds = np.arange(len(policy)) % 5
    prior = TopicPrior(0.1).fit_folds(features, policy, folds, topic_features, topics,
                                      categories)
    fold_of = dict(zip(policy, folds))
    for k in range(5):
        keep = np.array([fold_of.get(text, -1) != k for text in topics])
        assert 0 < (~keep).sum() < len(topics)
        bayes = MultinomialNB(alpha=0.1).fit(topic_features[keep], categories[keep])
        log_prob, log_prior = bayes.feature_log_prob_, bayes.class_log_prior_
        expected = (features[folds == k] @ (log_prob - log_prob.mean(axis=0)).T
                    + (log_prior - log_prior.mean()))
        np.testing.assert_allclose(prior.out_of_fold_[folds == k], expected, rtol=1e-9,
                                   atol=1e-9)
    bayes = MultinomialNB(alpha=0.1).fit(topic_features, categories)
    weights = np.stack([prior.weights_row(k) for k in range(3)])
    np.testing.assert_allclose(weights, bayes.feature_log_prob_
                               - bayes.feature_log_prob_.mean(axis=0), rtol=1e-12, atol=1e-12)
    coef = np.array([0.5, -2.0, 1.25])
    np.testing.assert_allclose(prior.weights_dot(coef), weights.T @ coef, rtol=1e-12,
                               atol=1e-12)
