"""Adapt a fitted headline classifier to user labels without its training corpora.

A fresh install has the bundled model and, over time, the labels its users
send (corrections of answers they disagree with). :class:`LabelAdaptedClassifier`
keeps that base model frozen and fits a small *correction* on top of it:

    logit p(x) = logit p_base(x) + s(x)^k * (w . z(x))

- ``p_base`` is the base model's calibrated p_clickbait; its logit enters as
  a fixed offset (coefficient 1, not learned), so with ``w = 0`` the adapted
  model answers exactly like the base model;
- ``z(x)`` are TF-IDF character 2-4-grams of the normalised headline, with a
  vocabulary learned from the labelled headlines only;
- ``w`` is an L2-regularised logistic regression with that offset, fitted on
  the labels with a margin: each labelled headline is pushed ``margin``
  log-odds beyond the base model's decision threshold, so small edits of it
  (a suffix, punctuation, traditional script) stay on the labelled side;
- ``s(x)`` is the cosine similarity of ``z(x)`` to the nearest labelled
  headline, raised to ``similarity_power``. It is 1 for a labelled headline,
  high for its near variants and close to 0 for unrelated headlines, so the
  correction stays local and unlabeled headlines keep the base model's answers.

The estimator has the interface :class:`model.scoring.Model` uses
(``transform``, ``p_clickbait_from_features``, ``contributions``,
``feature_names``, ``threshold_``), so an adapted model is saved, verified and
scored through the same artifact path as a :class:`~model.classifier.HeadlineClassifier`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from model.normalize import normalize_many

_P_CLIP = 1e-15  # keeps logit(p) finite: |logit| <= ~34.5


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _P_CLIP, 1.0 - _P_CLIP)
    return np.log(p) - np.log1p(-p)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def base_classifier(estimator):
    """The frozen base of ``estimator`` if it is adapted, else ``estimator`` itself."""
    return estimator.base if isinstance(estimator, LabelAdaptedClassifier) else estimator


class LabelAdaptedClassifier(ClassifierMixin, BaseEstimator):
    """A frozen base classifier plus a local correction fitted on user labels.

    See the module docstring for the model. ``fit`` never refits ``base``.

    Parameters
    ----------
    base : fitted HeadlineClassifier
        The model to adapt; needs ``transform``, ``p_clickbait_from_features``,
        ``contributions``, ``feature_names`` and ``threshold_``.
    C : float
        Inverse L2 regularisation strength of the correction weights ``w``.
    ngram_range : tuple of int
        Character n-gram lengths of the correction features.
    similarity_power : float
        Exponent ``k`` of the similarity gate ``s(x)^k``; 0 turns the gate off.
    margin : float
        Log-odds beyond the decision threshold each label is fitted towards.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        Character n-grams of the labelled headlines.
    labelled_ : scipy.sparse.csr_matrix, shape (n_labels, n_ngrams)
        L2-normalised rows of the labelled headlines, for the similarity gate.
    coef_ : ndarray, shape (n_ngrams,)
        Correction weights, in log-odds.
    threshold_ : float
        The base model's threshold, so that unlabeled headlines keep their labels.
    n_base_features_ : int
        Number of leading columns of :meth:`transform` that belong to the base.
    """

    def __init__(self, base=None, C: float = 100.0, ngram_range=(2, 4),
                 similarity_power: float = 2.0, margin: float = 2.0):
        self.base = base
        self.C = C
        self.ngram_range = ngram_range
        self.similarity_power = similarity_power
        self.margin = margin

    # -- fitting ---------------------------------------------------------------

    def fit(self, X: Sequence[str], y, sample_weight=None) -> "LabelAdaptedClassifier":
        """Fit the correction on ``X`` (n labelled headlines) and ``y`` (n ints, 1 = clickbait).

        One class alone is fine (e.g. only "this is clickbait" corrections).
        ``sample_weight`` of shape (n,) weights each label's loss term.
        """
        if self.base is None:
            raise ValueError("LabelAdaptedClassifier needs a fitted base classifier")
        check_is_fitted(self.base, "threshold_")
        X = list(X)
        y = np.asarray(y, dtype=np.int64)
        if len(X) == 0 or len(X) != len(y):
            raise ValueError(f"need as many labels as headlines, at least one (got {len(X)} "
                             f"headlines, {len(y)} labels)")
        if not set(np.unique(y)) <= {0, 1}:
            raise ValueError("labels must be 0 (substantive) or 1 (clickbait)")
        weights = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)

        self.classes_ = np.array([0, 1])
        self.threshold_ = float(self.base.threshold_)
        self.vectorizer_ = TfidfVectorizer(analyzer="char", ngram_range=tuple(self.ngram_range),
                                           lowercase=True, sublinear_tf=True, dtype=np.float64)
        self.labelled_ = self.vectorizer_.fit_transform(normalize_many(X)).tocsr()
        self.n_base_features_ = len(self.base.feature_names())

        sign = np.where(y == 1, 1.0, -1.0)
        offset = (_logit(self.base.predict_proba(X)[:, 1]) - _logit(self.threshold_)
                  - sign * self.margin)
        self.coef_ = _fit_offset_logistic(self.labelled_, sign, offset, weights, float(self.C))
        return self

    # -- the interface of model.scoring.Model ----------------------------------

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        """Features, shape (n, n_base_features_ + n_ngrams), sparse CSR: the base
        model's columns, then the gated correction n-grams ``s(x)^k * z(x)``."""
        check_is_fitted(self, "coef_")
        X = list(X)
        base_part = self.base.transform(X)
        ngrams = self.vectorizer_.transform(normalize_many(X)).tocsr()
        gated = sp.diags(self._gate(ngrams)) @ ngrams
        return sp.hstack([base_part, gated], format="csr")

    def p_clickbait_from_features(self, features) -> np.ndarray:
        """Calibrated p_clickbait, shape (n,), from a :meth:`transform` matrix."""
        base_part, gated = self._split(features)
        base_logit = _logit(self.base.p_clickbait_from_features(base_part))
        return _sigmoid(base_logit + gated @ self.coef_)

    def contributions(self, features) -> sp.csr_matrix:
        """Per-feature contributions, sparse CSR of the :meth:`transform` shape: the
        base model's (its log-odds before calibration) and the correction's (log-odds)."""
        base_part, gated = self._split(features)
        return sp.hstack([self.base.contributions(base_part), gated.multiply(self.coef_)],
                         format="csr")

    def feature_names(self) -> np.ndarray:
        """The base model's names, then ``label__<n-gram>`` for the correction."""
        check_is_fitted(self, "coef_")
        own = np.asarray([f"label__{t}" for t in self.vectorizer_.get_feature_names_out()],
                         dtype=object)
        return np.concatenate([np.asarray(self.base.feature_names(), dtype=object), own])

    # -- scikit-learn classifier API --------------------------------------------

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Probabilities, shape (n, 2): [p_substantive, p_clickbait]."""
        p = self.p_clickbait_from_features(self.transform(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """1 where p_clickbait >= ``threshold_``, else 0; shape (n,)."""
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(np.int64)

    def correction_gate(self, X: Sequence[str]) -> np.ndarray:
        """``s(x)^k`` of each headline, shape (n,): 1 for a labelled headline, ~0 far from all."""
        check_is_fitted(self, "coef_")
        return self._gate(self.vectorizer_.transform(normalize_many(list(X))).tocsr())

    # -- helpers ----------------------------------------------------------------

    def _gate(self, ngrams: sp.csr_matrix) -> np.ndarray:
        if self.similarity_power == 0:
            return np.ones(ngrams.shape[0])
        similarity = (ngrams @ self.labelled_.T).max(axis=1)
        similarity = np.asarray(similarity.todense()).ravel()
        return np.clip(similarity, 0.0, 1.0) ** float(self.similarity_power)

    def _split(self, features) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        features = sp.csr_matrix(features)
        return features[:, :self.n_base_features_], features[:, self.n_base_features_:]


def _fit_offset_logistic(Z: sp.csr_matrix, sign: np.ndarray, offset: np.ndarray,
                         weights: np.ndarray, C: float) -> np.ndarray:
    """Weights ``w`` (shape (d,)) minimising
    ``sum_i weights_i * log(1 + exp(-sign_i * (offset_i + Z_i . w))) + |w|^2 / (2C)``.

    ``Z`` has shape (n, d); ``sign`` is +1 (clickbait) or -1 per row. No
    intercept: a shared shift would move every headline, labelled or not.
    """
    def loss_and_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        margin = -sign * (offset + Z @ w)
        loss = float(weights @ np.logaddexp(0.0, margin)) + 0.5 / C * float(w @ w)
        grad = Z.T @ (-sign * weights * _sigmoid(margin)) + w / C
        return loss, grad

    result = minimize(loss_and_grad, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B",
                      options={"maxiter": 1000})
    return result.x
