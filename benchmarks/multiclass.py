"""Our features with a multinomial linear model, for the 10-class THUCNews task.

HeadlineClassifier is binary (clickbait or not); the 10-class comparison
uses the same feature union (:func:`model.features.build_features` with
HeadlineClassifier's defaults) and the same normalisation, with a
multinomial logistic regression over the classes on top.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from model import fast_features
from model.classifier import HeadlineClassifier
from model.features import build_features
from model.normalize import normalize_many


class MulticlassHeadlines:
    """Feature union + multinomial logistic regression with inverse L2 strength ``C``."""

    def __init__(self, C: float = 4.0):
        self.C = C
        defaults = HeadlineClassifier()
        self.features = build_features(defaults.segmenter, tuple(defaults.word_ngrams),
                                       tuple(defaults.char_ngrams), defaults.min_df,
                                       defaults.style, defaults.bait)
        self.linear = LogisticRegression(C=C, max_iter=2000)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "MulticlassHeadlines":
        features = self.features.fit_transform(normalize_many(texts))
        self.linear.fit(features, np.asarray(labels))
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        features = fast_features.transform(self.features, normalize_many(texts))
        return self.linear.predict(features)
