"""model.adaptation: the labels change the answers for their headlines and near
variants, and leave other headlines alone."""

from __future__ import annotations

import numpy as np
import opencc
import pytest
from sklearn.base import clone

from model.adaptation import LabelAdaptedClassifier, base_classifier
from model.artifacts import load_artifact, save_artifact
from model.scoring import Model

SUFFIXES = ("（图）", " - 新浪新闻", "!!")


@pytest.fixture(scope="module")
def corrections(bundled_model, policy_rows):
    """20 HanCD headlines the bundled model gets wrong, with their true labels."""
    texts = [text for text, _ in policy_rows]
    predicted = bundled_model.classifier.predict(texts)
    wrong = [(text, y) for (text, y), pred in zip(policy_rows, predicted)
             if pred != y and len(text) >= 8]
    assert len(wrong) >= 20
    return wrong[:20]


@pytest.fixture(scope="module")
def adapted(bundled_model, corrections):
    X, y = zip(*corrections)
    return LabelAdaptedClassifier(bundled_model.classifier).fit(list(X), list(y))


def test_labelled_headlines_flip(adapted, corrections):
    X, y = zip(*corrections)
    assert adapted.predict(list(X)).tolist() == list(y)


def test_near_variants_flip_too(adapted, corrections):
    to_traditional = opencc.OpenCC("s2t")
    X, y = zip(*corrections)
    traditional = [to_traditional.convert(x) for x in X]
    assert traditional != list(X)
    assert adapted.predict(traditional).tolist() == list(y)
    for suffix in SUFFIXES:
        predicted = adapted.predict([x + suffix for x in X])
        assert np.mean(predicted == np.asarray(y)) >= 0.9, suffix


def test_unlabeled_headlines_keep_the_base_answers(adapted, bundled_model, unlabeled_headlines):
    before = bundled_model.classifier.predict_proba(unlabeled_headlines)[:, 1]
    after = adapted.predict_proba(unlabeled_headlines)[:, 1]
    threshold = adapted.threshold_
    assert np.mean((before >= threshold) == (after >= threshold)) >= 0.99
    far = adapted.correction_gate(unlabeled_headlines) < 0.1  # unlike every labelled headline
    assert far.mean() > 0.8
    assert np.abs(after - before)[far].max() < 0.1  # ... moves by little


def test_without_a_correction_the_base_probabilities_are_kept(bundled_model):
    base = bundled_model.classifier
    adapted = LabelAdaptedClassifier(base, C=1e-9).fit(["某地召开工作会议"], [0])
    headlines = ["震惊！这位女星竟然", "国务院召开常务会议", "股市今日收涨"]
    np.testing.assert_allclose(adapted.predict_proba(headlines), base.predict_proba(headlines),
                               atol=1e-6)


def test_scoring_saving_and_loading_like_any_model(adapted, corrections, tmp_path):
    manifest = save_artifact(tmp_path / "v", adapted, {"version": "adapted-test",
                                                       "threshold": adapted.threshold_})
    estimator, loaded_manifest = load_artifact(tmp_path / "v",
                                               expected_sha256=manifest["artifact_sha256"])
    model = Model(estimator, loaded_manifest)
    headline, y = corrections[0]
    result = model.score([headline, "国务院召开常务会议"], explain=True, top_k=50)
    assert result[0].label == ("clickbait" if y else "substantive")
    assert any(name.startswith("label:") for name, _ in result[0].explanation)
    assert model.version == "adapted-test"


def test_single_class_labels_and_sklearn_conventions(bundled_model):
    adapted = LabelAdaptedClassifier(bundled_model.classifier).fit(
        ["国务院召开常务会议部署经济工作", "央行宣布下调存款准备金率"], [1, 1])
    assert adapted.predict(["国务院召开常务会议部署经济工作"])[0] == 1
    assert base_classifier(adapted) is bundled_model.classifier
    assert clone(adapted).get_params()["C"] == adapted.C
    assert adapted.predict_proba(["x"]).shape == (1, 2)


def test_bad_input_is_refused_with_a_reason(bundled_model):
    with pytest.raises(ValueError, match="fitted base"):
        LabelAdaptedClassifier().fit(["a"], [1])
    with pytest.raises(ValueError, match="as many labels"):
        LabelAdaptedClassifier(bundled_model.classifier).fit(["a", "b"], [1])
    with pytest.raises(ValueError, match="0 .substantive. or 1"):
        LabelAdaptedClassifier(bundled_model.classifier).fit(["a"], [2])
