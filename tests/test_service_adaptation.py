"""model.adaptation: editors' labels refit the bundled model's own weights.

Checked: the labelled headlines are answered on their labelled side; the
labels reach unseen headlines of the same kind (a desk that calls game news
bait); headlines of other topics keep their answers; the adapted model is a
plain HeadlineClassifier on the fast path; the base is left as it was.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import game_and_other_headlines

from model import HeadlineClassifier, fast_features
from model.adaptation import adapt_to_labels
from model.normalize import normalize_many


@pytest.fixture(scope="module")
def topics() -> dict[str, list[str]]:
    """Game headlines and other-topic headlines of THUCNews' extra split."""
    game, other = game_and_other_headlines()
    return {"game": game, "other": other}


def test_labelled_headlines_are_answered_as_labelled(bundled_model):
    texts = ["国务院召开常务会议部署经济工作", "女星红毯造型惊艳全场,网友:太美了!"]
    base = bundled_model.classifier
    assert base.predict(texts).tolist() == [0, 1]
    adapted = adapt_to_labels(base, texts, [1, 0])
    assert adapted.predict(texts).tolist() == [1, 0]
    assert adapted.predict(["國務院召開常務會議部署經濟工作"]).tolist() == [1]  # same headline
    assert base.predict(texts).tolist() == [0, 1]  # the base is untouched
    assert not getattr(base, "corrections_", {})


def test_labels_teach_the_topic_and_leave_other_topics(bundled_model, topics):
    base = bundled_model.classifier
    game, other = topics["game"], topics["other"]
    labels = game[:300] + other[:150]
    y = [1] * 300 + [0] * 150
    adapted = adapt_to_labels(base, labels, y)
    unseen_game, unseen_other = game[300:800], other[150:1150]
    before = base.predict(unseen_game).mean()
    after = adapted.predict(unseen_game).mean()
    kept = (adapted.predict(unseen_other) == base.predict(unseen_other)).mean()
    assert before < 0.1 and after >= 0.8, (before, after)
    assert kept >= 0.97, kept


def test_the_adapted_model_is_a_plain_classifier_on_the_fast_path(bundled_model, topics):
    adapted = adapt_to_labels(bundled_model.classifier, topics["game"][:20], [1] * 20)
    assert type(adapted) is HeadlineClassifier
    assert fast_features.compiled(adapted.features_) is not None
    texts = topics["other"][:200]
    features = adapted.features_.transform(normalize_many(texts))
    d = np.asarray(features @ adapted.coef_.T).ravel() + adapted.intercept_[0]
    a, b = adapted.calibrator_.coef_[0, 0], adapted.calibrator_.intercept_[0]
    reference = 1.0 / (1.0 + np.exp(-(a * d + b)))
    assert np.abs(adapted.predict_proba(texts)[:, 1] - reference).max() < 1e-9


def test_bad_labels_are_refused(bundled_model):
    base = bundled_model.classifier
    with pytest.raises(ValueError, match="as many labels"):
        adapt_to_labels(base, ["a", "b"], [1])
    with pytest.raises(ValueError, match="0 .substantive. or 1"):
        adapt_to_labels(base, ["a"], [2])
    with pytest.raises(ValueError, match="at least one"):
        adapt_to_labels(base, [], [])
