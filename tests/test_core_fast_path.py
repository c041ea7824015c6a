"""The vectorised scoring path equals the plain definitions it replaces.

model.normalize.normalize_many, StyleFeatures.transform and
model.fast_features.transform are batch shortcuts; each must give exactly
what the one-by-one definition gives (normalize, transform_one_by_one,
FeatureUnion.transform), on real headlines and on hostile strings.
"""

from __future__ import annotations

import json
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import fast_features, load_model
from model.bait_style import BaitFeatures
from model.features import StyleFeatures, build_features
from model.normalize import normalize, normalize_many
from training.locations import data_dir

# Characters that exercise every special case: newlines and other whitespace,
# invisible and combining characters, full-width and compatibility forms,
# case changes that alter the length (İ) or depend on context (Σ), digits of
# other scripts, characters outside the BMP, bait phrases and style marks.
HOSTILE = ("\n\r\t \u3000\xa0\u2028\x0b\x1c\x85\u200b\u200d\ufeff\u0301\u0308\u0345"
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
