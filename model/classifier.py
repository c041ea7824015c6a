"""The headline classifier: normalise, featurise, linear model, calibration."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from model.features import build_features
from model.normalize import normalize_many

LABELS = ("substantive", "clickbait")  # class 0, class 1


class HeadlineClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF + logistic regression with Platt-calibrated probabilities.

    ``fit`` takes raw headlines and binary targets (1 = clickbait). It

    1. normalises the text (:func:`model.normalize.normalize_many`);
    2. fits the feature union (:func:`model.features.build_features`);
    3. gets out-of-fold decision values of the logistic regression with
       ``calibration_folds``-fold cross-validation, fits a one-dimensional
       sigmoid on them (Platt scaling) and chooses ``threshold_`` as the
       calibrated probability that maximises F1 on those out-of-fold
       predictions (data the model being validated did not see);
    4. refits the logistic regression on all of its training data.

    The calibration is monotone, so the ranking and the per-feature
    contributions of the single linear model explain every probability.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    class_weight : dict, "balanced" or None
        Passed to the logistic regression.
    segmenter, word_ngrams, char_ngrams, min_df, style
        Passed to :func:`model.features.build_features`.
    calibration_folds : int
        Folds for the out-of-fold calibration and threshold choice.
    random_state : int
        Seed of the calibration folds.
    """

    def __init__(self, C: float = 4.0, class_weight=None, segmenter: str = "rjieba",
                 word_ngrams=(1, 2), char_ngrams=(1, 3), min_df: int = 2,
                 style: bool = True, calibration_folds: int = 5, random_state: int = 0):
        self.C = C
        self.class_weight = class_weight
        self.segmenter = segmenter
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.style = style
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _linear(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight=self.class_weight,
                                  solver="liblinear", max_iter=1000)

    def fit(self, X: Sequence[str], y, sample_weight=None) -> "HeadlineClassifier":
        """Fit on ``X`` (n headlines) and ``y`` (n ints in {0, 1})."""
        y = np.asarray(y, dtype=np.int64)
        if set(np.unique(y)) != {0, 1}:
            raise ValueError("training data needs both classes: 0 (substantive) and 1 (clickbait)")
        self.classes_ = np.array([0, 1])
        self.features_ = build_features(self.segmenter, tuple(self.word_ngrams),
                                        tuple(self.char_ngrams), self.min_df, self.style)
        features = self.features_.fit_transform(normalize_many(X))
        self._drop_stop_words()

        folds = StratifiedKFold(self.calibration_folds, shuffle=True,
                                random_state=self.random_state)
        params = {"sample_weight": sample_weight} if sample_weight is not None else None
        oof = cross_val_predict(self._linear(), features, y, cv=folds,
                                method="decision_function", params=params)
        self.calibrator_ = LogisticRegression(C=1e6).fit(oof.reshape(-1, 1), y)
        self.threshold_ = _f1_threshold(y, self._calibrate(oof))

        self.linear_ = self._linear().fit(features, y, sample_weight=sample_weight)
        return self

    def _drop_stop_words(self) -> None:
        # TfidfVectorizer keeps every pruned term in ``stop_words_``, only for
        # introspection; it would dominate the artifact's size.
        for _, transformer in self.features_.transformer_list:
            if hasattr(transformer, "stop_words_"):
                del transformer.stop_words_

    def _calibrate(self, decision: np.ndarray) -> np.ndarray:
        return self.calibrator_.predict_proba(decision.reshape(-1, 1))[:, 1]

    def transform(self, X: Sequence[str]):
        """Feature matrix, shape (n headlines, n features), sparse CSR."""
        check_is_fitted(self, "linear_")
        return self.features_.transform(normalize_many(X))

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """Uncalibrated log-odds of clickbait, shape (n,)."""
        return self.linear_.decision_function(self.transform(X))

    def p_clickbait_from_features(self, features) -> np.ndarray:
        """Calibrated p_clickbait, shape (n,), from a :meth:`transform` matrix."""
        return self._calibrate(self.linear_.decision_function(features))

    def contributions(self, features):
        """Per-feature contributions to the log-odds: ``features`` x weights, sparse CSR."""
        return features.multiply(self.linear_.coef_[0]).tocsr()

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape (n, 2): [p_substantive, p_clickbait]."""
        p = self.p_clickbait_from_features(self.transform(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """1 where the calibrated p_clickbait >= ``threshold_``, else 0."""
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(np.int64)

    def feature_names(self) -> np.ndarray:
        """Names of the feature columns, e.g. ``word__明星``, ``char__八卦``."""
        check_is_fitted(self, "linear_")
        return self.features_.get_feature_names_out()


def _f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])
