"""The headline classifier: normalise, featurise, linear models, calibration."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from joblib import parallel_config
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.utils.validation import check_is_fitted

from model import fast_features
from model.features import build_features
from model.normalize import normalize_many

LABELS = ("substantive", "clickbait")  # class 0, class 1
_ABSENT = -30.0  # out-of-fold score of a category the fold never saw


def fine_targets(y: np.ndarray, categories: Sequence[str] | None) -> np.ndarray:
    """Training targets ``"<category>|<y>"``, e.g. ``"thucnews:sports|0"``.

    Each target is pure in ``y`` by construction. Without categories the
    targets are just ``"|0"`` and ``"|1"`` (a plain binary model).
    """
    if categories is None:
        categories = [""] * len(y)
    return np.asarray([f"{c}|{int(label)}" for c, label in zip(categories, y)], dtype=object)


class HeadlineClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF + one-vs-rest logistic regression over fine categories,
    reduced to a calibrated binary p_clickbait.

    "Substantive" is a union of unlike topics (stocks, sports, politics...)
    and "clickbait" one of unlike styles (gossip, tabloid stories, bait
    titles); one linear boundary around each union fits them badly. So when
    ``fit`` is given the source ``categories``, one logistic regression is
    fitted per category (e.g. ``thucnews:sports``, ``tnews:news_story``), and
    the clickbait log-odds of a headline is

        d(x) = logsumexp(s_k(x) for clickbait k) - logsumexp(s_k(x) for substantive k)

    where ``s_k`` are the per-category linear scores. ``d`` is mapped to
    p_clickbait by a sigmoid fitted on out-of-fold ``d`` (Platt scaling), and
    ``threshold_`` is the probability that maximises F-beta on those same
    out-of-fold predictions (data the validated models did not see). The
    default beta = 0.5 weighs precision higher: a filter that hides a real
    news item does more harm than one that lets a gossip item through.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength of each logistic regression.
    segmenter, word_ngrams, char_ngrams, min_df, style
        Passed to :func:`model.features.build_features`.
    calibration_folds : int
        Folds for the out-of-fold calibration and threshold choice.
    threshold_beta : float
        Beta of the F-beta score that ``threshold_`` maximises.
    n_jobs : int
        Processes fitting the per-category models.
    random_state : int
        Seed of the calibration folds.
    """

    def __init__(self, C: float = 4.0, segmenter: str = "rjieba", word_ngrams=(1, 2),
                 char_ngrams=(1, 3), min_df: int = 3, style: bool = True,
                 calibration_folds: int = 3, threshold_beta: float = 0.5, n_jobs: int = 2,
                 random_state: int = 0):
        self.C = C
        self.segmenter = segmenter
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.style = style
        self.calibration_folds = calibration_folds
        self.threshold_beta = threshold_beta
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _linear(self) -> OneVsRestClassifier:
        return OneVsRestClassifier(LogisticRegression(C=self.C, solver="liblinear",
                                                      random_state=self.random_state),
                                   n_jobs=self.n_jobs)

    def fit(self, X: Sequence[str], y, categories: Sequence[str] | None = None
            ) -> "HeadlineClassifier":
        """Fit on ``X`` (n raw headlines), ``y`` (n ints, 1 = clickbait) and
        optionally ``categories`` (n source category names, see class doc)."""
        y = np.asarray(y, dtype=np.int64)
        if set(np.unique(y)) != {0, 1}:
            raise ValueError("training data needs both classes: 0 (substantive) and 1 (clickbait)")
        self.classes_ = np.array([0, 1])
        targets = fine_targets(y, categories)
        self.features_ = build_features(self.segmenter, tuple(self.word_ngrams),
                                        tuple(self.char_ngrams), self.min_df, self.style)
        features = self.features_.fit_transform(normalize_many(X))
        self._drop_stop_words()

        self.linear_ = self._fit_linear(features, targets)
        oof_scores = self._out_of_fold_scores(features, targets)
        self.clickbait_mask_ = np.array([t.endswith("|1") for t in self.linear_.classes_])
        oof = self._log_odds(oof_scores)
        self.calibrator_ = LogisticRegression(C=1e6).fit(oof.reshape(-1, 1), y)
        self.threshold_ = best_threshold(y, self._calibrate(oof), self.threshold_beta)
        self._compact()
        return self

    def _fit_linear(self, features, targets: np.ndarray) -> OneVsRestClassifier:
        # Worker processes get a pickled copy of the matrix: liblinear cannot
        # use the read-only memory maps joblib would otherwise hand them.
        with parallel_config(max_nbytes=None):
            return self._linear().fit(features, targets)

    def _out_of_fold_scores(self, features, targets: np.ndarray) -> np.ndarray:
        """Category scores of each row from a model fitted without its fold,
        shape (n, n_categories); a category absent from a fold's training
        part scores ``_ABSENT`` there."""
        classes = list(self.linear_.classes_)
        scores = np.full((features.shape[0], len(classes)), _ABSENT)
        folds = StratifiedKFold(self.calibration_folds, shuffle=True,
                                random_state=self.random_state)
        for train, test in folds.split(np.zeros(len(targets)), targets):
            model = self._fit_linear(features[train], targets[train])
            fold_scores = model.decision_function(features[test])
            if fold_scores.ndim == 1:
                fold_scores = np.column_stack([-fold_scores, fold_scores])
            columns = [classes.index(c) for c in model.classes_]
            scores[np.ix_(test, columns)] = fold_scores
        return scores[:, 1] if len(classes) == 2 else scores

    def _drop_stop_words(self) -> None:
        # TfidfVectorizer keeps every pruned term in ``stop_words_``, only for
        # introspection; it would dominate the artifact's size.
        for _, transformer in self.features_.transformer_list:
            if hasattr(transformer, "stop_words_"):
                del transformer.stop_words_

    def _compact(self) -> None:
        """Store the per-category weights as one float32 matrix, shape
        (n_categories, n_features), and drop the fitted sub-estimators."""
        estimators = self.linear_.estimators_
        self.coef_ = np.vstack([e.coef_ for e in estimators]).astype(np.float32)
        self.intercept_ = np.array([e.intercept_[0] for e in estimators], dtype=np.float32)
        self.linear_ = None

    def _scores(self, features) -> np.ndarray:
        """Per-category linear scores, shape (n, n_categories)."""
        return np.asarray(features @ self._scoring_weights()) + self.intercept_

    def _scoring_weights(self) -> np.ndarray:
        """``coef_.T`` as a C-ordered float64 array, shape (n_features, n_categories).

        The product of a float64 feature matrix with float32 ``coef_.T`` makes
        scipy convert the whole weight matrix to float64 on every call (4 ms
        for the bundled model, even for one headline); the converted copy is
        kept here instead. Same values, so the same scores. Not pickled.
        """
        cached = self.__dict__.get("_weights_cache")
        if cached is None or cached[0] is not self.coef_:
            cached = (self.coef_, np.ascontiguousarray(self.coef_.T, dtype=np.float64))
            self.__dict__["_weights_cache"] = cached
        return cached[1]

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # a copy: never edit the live __dict__
        state.pop("_weights_cache", None)
        return state

    def _log_odds(self, scores: np.ndarray) -> np.ndarray:
        if scores.ndim == 1:  # two categories: one model, score of the second class
            return scores if self.clickbait_mask_[1] else -scores
        return (_logsumexp(scores[:, self.clickbait_mask_])
                - _logsumexp(scores[:, ~self.clickbait_mask_]))

    def _calibrate(self, log_odds: np.ndarray) -> np.ndarray:
        a, b = self.calibrator_.coef_[0, 0], self.calibrator_.intercept_[0]
        return 1.0 / (1.0 + np.exp(-(a * log_odds + b)))

    def transform(self, X: Sequence[str]):
        """Feature matrix, shape (n headlines, n features), sparse CSR."""
        check_is_fitted(self, "coef_")
        return fast_features.transform(self.features_, normalize_many(X))

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """Uncalibrated clickbait log-odds d(x), shape (n,)."""
        return self._log_odds(self._category_scores(self.transform(X)))

    def _category_scores(self, features) -> np.ndarray:
        scores = self._scores(features)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def p_clickbait_from_features(self, features) -> np.ndarray:
        """Calibrated p_clickbait, shape (n,), from a :meth:`transform` matrix."""
        return self._calibrate(self._log_odds(self._category_scores(features)))

    def contributions(self, features):
        """Per-feature contributions to the log-odds d(x), sparse CSR (n, n_features).

        d is linear in the features within each group of categories; its
        gradient is sum_k pi_k w_k over clickbait categories minus the same
        over substantive ones, with pi the softmax of the scores inside each
        group. Contribution j of row i is x_ij times that gradient.
        """
        scores = self._category_scores(features)
        if scores.ndim == 1:
            sign = 1.0 if self.clickbait_mask_[1] else -1.0
            return features.multiply(sign * self.coef_[0]).tocsr()
        mask = self.clickbait_mask_
        weights = np.zeros_like(scores)
        weights[:, mask] = softmax(scores[:, mask], axis=1)
        weights[:, ~mask] = -softmax(scores[:, ~mask], axis=1)
        features = features.tocoo()
        # Gradient only at the non-zero entries: (nnz, K) x (nnz, K) summed over K.
        gradient = np.einsum("ik,ik->i", weights[features.row], self.coef_.T[features.col])
        return sp.csr_matrix((features.data * gradient, (features.row, features.col)),
                             shape=features.shape)

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape (n, 2): [p_substantive, p_clickbait]."""
        p = self.p_clickbait(X)
        return np.column_stack([1.0 - p, p])

    def p_clickbait(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated p_clickbait of raw headlines, shape (n,).

        A batch of a few headlines (one per HTTP request, typically) skips
        the sparse matrix: each row's linear scores are its values times the
        rows of the weights at its columns (the same sums as the matrix
        product, up to the order of additions).
        """
        _check_fitted(self)
        arrays = fast_features.small_batch_arrays(self.features_, normalize_many(X))
        if arrays is None:
            return self.p_clickbait_from_features(self.transform(X))
        return self.p_clickbait_from_arrays(arrays)

    def p_clickbait_from_arrays(self, arrays) -> np.ndarray:
        """Calibrated p_clickbait, shape (n,), from the CSR arrays of a feature
        matrix (:func:`model.fast_features.small_batch_arrays`)."""
        weights = self._scoring_weights()
        scores = np.empty((arrays.shape[0], weights.shape[1]))
        for row in range(arrays.shape[0]):
            start, end = arrays.indptr[row], arrays.indptr[row + 1]
            scores[row] = arrays.data[start:end] @ weights[arrays.indices[start:end]]
        scores += self.intercept_
        if scores.shape[1] == 1:
            scores = scores[:, 0]
        return self._calibrate(self._log_odds(scores))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """1 where the calibrated p_clickbait >= ``threshold_``, else 0."""
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(np.int64)

    def feature_names(self) -> np.ndarray:
        """Names of the feature columns, e.g. ``word__明星``, ``char__八卦``."""
        check_is_fitted(self, "coef_")
        return self.features_.get_feature_names_out()


def _check_fitted(classifier: HeadlineClassifier) -> None:
    """check_is_fitted(classifier, "coef_") without its ~20 us of introspection."""
    if "coef_" not in classifier.__dict__:
        check_is_fitted(classifier, "coef_")


def _logsumexp(scores: np.ndarray) -> np.ndarray:
    """log(sum(exp(scores))) of each row, shape (n,), shifted by the row maximum
    against overflow (scipy's logsumexp costs ~50 us per call in validation)."""
    top = scores.max(axis=1)
    return np.log(np.exp(scores - top[:, None]).sum(axis=1)) + top


def best_threshold(y: np.ndarray, p: np.ndarray, beta: float = 1.0) -> float:
    """The probability cut in ``p`` (shape (n,)) that maximises F-beta on ``y``."""
    precision, recall, thresholds = precision_recall_curve(y, p)
    b2 = beta * beta
    f = (1 + b2) * precision * recall / np.maximum(b2 * precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f[:-1]))])
