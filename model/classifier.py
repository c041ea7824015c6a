"""The headline classifier: normalise, featurise, one logistic regression, calibration."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from joblib.externals.loky import get_reusable_executor
from joblib.parallel import LokyBackend, get_active_backend
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from model import fast_features, kernel
from model.features import build_features
from model.normalize import normalize_many
from model.vocabulary import fit_union

log = logging.getLogger(__name__)

LABELS = ("substantive", "clickbait")  # class 0, class 1
CORRECTION_LOGODDS = 2.0  # how far past the threshold a labelled headline is answered
FISHER_CHUNK_ROWS = 50_000  # rows squared at a time by _keep_fisher
TOPIC_DIRECTION_TERMS = 5000  # features kept per topic direction (see _keep_topic_directions)


class HeadlineClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF + logistic regression on policy labels, with a topic prior
    learnt from category-labelled corpora.

    The target is the label policy (``POLICY.md``): ``fit`` takes policy-
    labelled headlines ``X, y``. Category corpora (THUCNews, TNEWS ...) are a
    weaker signal: their category says what a headline is *about*, not
    whether it is bait. They enter as a topic prior:

    1. A multinomial naive Bayes over the source categories (``topic_y``, e.g.
       ``thucnews:sports``) is fitted on the category headlines' features. Its
       centred joint log-likelihood ``t(x) = x @ (L - mean_k L_k).T + (prior -
       mean prior)`` (``L``: log feature probabilities, shape (K, n_features))
       is the topic evidence of a headline, K numbers.
    2. A logistic regression is fitted on the policy rows with features
       ``[x, topic_weight * t(x)]``; each row's ``t`` comes from a naive Bayes
       that never saw that headline (folds), so the regression learns how much
       to trust the topic evidence on headlines it has not seen.
    3. ``t`` is linear in ``x``, so the fitted model collapses to one weight
       vector over the features: ``d(x) = x @ coef_[0] + intercept_[0]``. The
       artifact is a plain linear model; scoring and explanations need no
       naive Bayes.

    ``d`` is mapped to p_clickbait by a sigmoid fitted on out-of-fold ``d``
    (Platt scaling), and ``threshold_`` is the probability cut with the
    highest out-of-fold recall among those with precision >= ``target_precision``:
    a sidebar filter must rarely hide real news.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    topic_weight : float
        Scale of the topic evidence columns (their effective regularisation).
    topic_alpha : float
        Additive smoothing of the naive Bayes topic model.
    segmenter, word_ngrams, char_ngrams, min_df, style, bait
        Passed to :func:`model.features.build_features`.
    folds : int
        Folds for the out-of-fold topic evidence, calibration and threshold.
    target_precision : float
        Precision the stored threshold must reach on out-of-fold predictions.
    random_state : int
        Seed of the folds.
    """

    def __init__(self, C: float = 8.0, topic_weight: float = 0.1, topic_alpha: float = 0.1,
                 segmenter: str = "rjieba", word_ngrams=(1, 2), char_ngrams=(1, 3),
                 min_df: int = 3, style: bool = True, bait: bool = True, folds: int = 5,
                 target_precision: float = 0.9, random_state: int = 0):
        self.C = C
        self.topic_weight = topic_weight
        self.topic_alpha = topic_alpha
        self.segmenter = segmenter
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.style = style
        self.bait = bait
        self.folds = folds
        self.target_precision = target_precision
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------

    def fit(self, X: Sequence[str], y, topic_X: Sequence[str] | None = None,
            topic_y: Sequence[str] | None = None, sample_weight=None) -> "HeadlineClassifier":
        """Fit on policy-labelled ``X`` (n raw headlines) and ``y`` (n ints,
        1 = clickbait), with an optional topic prior from ``topic_X`` (m raw
        headlines) and ``topic_y`` (m category names). ``sample_weight``, shape
        (n,), weighs each policy row's loss (editors' labels, for instance)."""
        y = np.asarray(y, dtype=np.int64)
        if set(np.unique(y)) != {0, 1}:
            raise ValueError("training data needs both classes: 0 (substantive) and 1 (clickbait)")
        weights = (np.ones(len(y)) if sample_weight is None
                   else np.asarray(sample_weight, dtype=np.float64))
        texts = normalize_many(X)
        topic_texts = normalize_many(topic_X) if topic_X is not None else []
        self.classes_ = np.array([0, 1])
        self.corrections_: dict[str, int] = {}
        self.features_ = build_features(self.segmenter, tuple(self.word_ngrams),
                                        tuple(self.char_ngrams), self.min_df, self.style,
                                        self.bait)
        matrix = fit_union(self.features_, texts + topic_texts)
        self._drop_stop_words()
        features, topic_features = matrix[:len(texts)], matrix[len(texts):]

        folds = self._folds(y)
        topic = None
        if len(topic_texts):
            topic = TopicPrior(self.topic_alpha).fit_folds(
                features, texts, folds, topic_features, topic_texts, np.asarray(topic_y))
        del topic_features  # a copy of most of matrix: not held through the regressions
        parts = [folds != k for k in range(self.folds)] + [np.ones(len(y), dtype=bool)]
        *fold_fits, regression = self._regressions(features, topic, parts, y, weights)
        oof = np.empty(len(y))
        for k, fitted in enumerate(fold_fits):
            test = folds == k
            oof[test] = self._decision(fitted, features[test], topic, test)
        self._collapse(regression, topic, features.shape[1])
        self._keep_topic_directions(topic)
        self.calibrator_ = LogisticRegression(C=1e6).fit(oof.reshape(-1, 1), y)
        self.oof_p_clickbait_ = self._calibrate(oof)
        self.threshold_ = threshold_at_precision(y, self.oof_p_clickbait_, self.target_precision)
        self._keep_fisher(matrix)
        return self

    def _keep_fisher(self, matrix) -> None:
        """``fisher_``, float32 (n_features,): the diagonal of the Fisher
        information of the calibrated log-odds per weight, averaged over the
        training headlines (``mean_i p_i (1 - p_i) (a x_ij)^2``). It says how
        much changing a weight would change the scores of the headlines the
        model was fitted on; :func:`model.adaptation.adapt_to_labels` uses it
        to keep what the model knew (elastic weight consolidation)."""
        a = float(self.calibrator_.coef_[0, 0])
        fisher = np.zeros(matrix.shape[1])
        for start in range(0, matrix.shape[0], FISHER_CHUNK_ROWS):  # no squared copy of it all
            chunk = matrix[start:start + FISHER_CHUNK_ROWS]
            p = self.p_clickbait_from_features(chunk)
            fisher += chunk.power(2).T @ (p * (1.0 - p))
        self.fisher_ = (fisher * (a * a / matrix.shape[0])).astype(np.float32)

    def _folds(self, y: np.ndarray) -> np.ndarray:
        """Fold number of each policy row, shape (n,)."""
        folds = np.empty(len(y), dtype=np.int64)
        splitter = StratifiedKFold(self.folds, shuffle=True, random_state=self.random_state)
        for k, (_, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
            folds[test] = k
        return folds

    def _design(self, features, topic: "TopicPrior | None", rows: np.ndarray):
        """The regression's input for ``rows`` of the policy data."""
        if topic is None:
            return features
        return sp.hstack([features, self.topic_weight * topic.out_of_fold_[rows]], format="csr")

    def _regressions(self, features, topic, parts: list[np.ndarray], y, weights
                     ) -> list[LogisticRegression]:
        """One logistic regression per boolean row mask of ``parts``. They are
        independent: joblib runs them in parallel when the caller asks for it
        (``joblib.parallel_config(n_jobs=...)``, as training.train does)."""
        regressions = Parallel()(delayed(_logistic_regression)(
            self._design(features[rows], topic, rows), y[rows], weights[rows], self.C,
            self.random_state) for rows in parts)
        _stop_idle_workers()
        return regressions

    def _decision(self, regression, features, topic, rows: np.ndarray) -> np.ndarray:
        return regression.decision_function(self._design(features, topic, rows))

    def _collapse(self, regression: LogisticRegression, topic: "TopicPrior | None",
                  n_features: int) -> None:
        """``coef_`` (1, n_features) float32 and ``intercept_`` (1,) of the one
        linear model the regression and the topic prior add up to."""
        coef = regression.coef_[0, :n_features].astype(np.float64)
        intercept = float(regression.intercept_[0])
        if topic is not None:
            topic_coef = self.topic_weight * regression.coef_[0, n_features:]
            coef = coef + topic.weights_dot(topic_coef)
            intercept += float(topic.bias_ @ topic_coef)
        self.coef_ = coef.astype(np.float32).reshape(1, -1)
        self.intercept_ = np.array([intercept], dtype=np.float32)

    def _keep_topic_directions(self, topic: "TopicPrior | None") -> None:
        """``topic_directions_``: sparse CSR float32 (K topics, n_features), each
        topic's :data:`TOPIC_DIRECTION_TERMS` most characteristic features
        (centred log-probabilities, times ``topic_weight``), and
        ``topic_names_`` (K,). :func:`model.adaptation.adapt_to_labels` lets
        editors' labels move the model along them: labels on some game
        headlines reach game headlines in general. None without a prior."""
        if topic is None:
            self.topic_directions_, self.topic_names_ = None, None
            return
        n_topics, n_features = topic.log_counts_.shape
        keep = min(TOPIC_DIRECTION_TERMS, n_features)
        columns, values = [], []
        for k in range(n_topics):  # one dense (n_features,) row at a time
            row = topic.weights_row(k)
            top = np.argpartition(-row, keep - 1)[:keep].copy()  # not a view of all n_features
            columns.append(top)
            values.append(row[top])
        rows = np.repeat(np.arange(n_topics), keep)
        self.topic_directions_ = sp.csr_matrix(
            ((self.topic_weight * np.concatenate(values)).astype(np.float32),
             (rows, np.concatenate(columns))), shape=(n_topics, n_features))
        self.topic_names_ = np.asarray(topic.classes_, dtype=object)

    def _drop_stop_words(self) -> None:
        # TfidfVectorizer keeps every pruned term in ``stop_words_``, only for
        # introspection; it would dominate the artifact's size.
        for _, transformer in self.features_.transformer_list:
            if hasattr(transformer, "stop_words_"):
                del transformer.stop_words_

    # -- scoring ---------------------------------------------------------------

    def _scoring_weights(self) -> np.ndarray:
        """``coef_[0]`` as float64, shape (n_features,).

        The product of a float64 feature matrix with float32 weights makes
        scipy convert the weights on every call; the converted copy is kept
        here instead. Same values, so the same scores. Not pickled.
        """
        cached = self.__dict__.get("_weights_cache")
        if cached is None or cached[0] is not self.coef_:
            cached = (self.coef_, np.ascontiguousarray(self.coef_[0], dtype=np.float64))
            self.__dict__["_weights_cache"] = cached
        return cached[1]

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # a copy: never edit the live __dict__
        state.pop("_weights_cache", None)
        return state

    def _calibrate(self, log_odds: np.ndarray) -> np.ndarray:
        a, b = self._calibration()
        return 1.0 / (1.0 + np.exp(-(a * log_odds + b)))

    def _calibration(self) -> tuple[float, float]:
        """(a, b) of the Platt calibration p = 1 / (1 + exp(-(a * d + b)))."""
        return float(self.calibrator_.coef_[0, 0]), float(self.calibrator_.intercept_[0])

    def transform(self, X: Sequence[str]):
        """Feature matrix, shape (n headlines, n features), sparse CSR."""
        check_is_fitted(self, "coef_")
        return fast_features.transform(self.features_, normalize_many(X))

    def decision_function_from_features(self, features) -> np.ndarray:
        """Uncalibrated clickbait log-odds d(x), shape (n,), from a :meth:`transform` matrix."""
        return np.asarray(features @ self._scoring_weights()).ravel() + float(self.intercept_[0])

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """Uncalibrated clickbait log-odds d(x), shape (n,)."""
        return self.decision_function_from_features(self.transform(X))

    def p_clickbait_from_features(self, features) -> np.ndarray:
        """Calibrated p_clickbait, shape (n,), from a :meth:`transform` matrix."""
        return self._calibrate(self.decision_function_from_features(features))

    def contributions(self, features):
        """Per-feature contributions to the log-odds d(x), sparse CSR (n, n_features):
        value times weight; a row's sum plus ``intercept_[0]`` is its d(x)."""
        return sp.csr_matrix(features).multiply(self.coef_[0]).tocsr()

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape (n, 2): [p_substantive, p_clickbait]."""
        p = self.p_clickbait(X)
        proba = np.empty((len(p), 2))
        proba[:, 1] = p
        np.subtract(1.0, p, out=proba[:, 0])
        return proba

    def p_clickbait(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated p_clickbait of raw headlines, shape (n,).

        The compiled kernel (:mod:`model.kernel`) computes the log-odds
        where it can. Otherwise a batch of a few headlines (one per HTTP
        request, typically) skips the sparse matrix: each row's score is its
        values times the weights at its columns (the same sum as the matrix
        product, up to the order of additions).
        """
        _check_fitted(self)
        texts = normalize_many(X)
        p = kernel.log_odds(self, texts, self._calibration())
        if p is not None:
            return self._corrected(texts, p)
        arrays = fast_features.small_batch_arrays(self.features_, texts)
        if arrays is None:
            p = self.p_clickbait_from_features(fast_features.transform(self.features_, texts))
        else:
            p = self.p_clickbait_from_arrays(arrays)
        return self._corrected(texts, p)

    def correct(self, X: Sequence[str], p: np.ndarray) -> np.ndarray:
        """``p`` (shape (n,), p_clickbait of ``X``) with the exact corrections applied."""
        return self._corrected(normalize_many(X), np.asarray(p, dtype=np.float64))

    def _corrected(self, texts: list[str], p: np.ndarray) -> np.ndarray:
        """Labelled headlines (``corrections_``, normalised text -> label) on their
        labelled side of the threshold, :data:`CORRECTION_LOGODDS` past it."""
        corrections = self.__dict__.get("corrections_")
        if not corrections:
            return p
        for i, text in enumerate(texts):
            label = corrections.get(text)
            if label is not None:
                edge = 1.0 / (1.0 + np.exp(-(_logit(self.threshold_)
                                              + (CORRECTION_LOGODDS if label else
                                                 -CORRECTION_LOGODDS))))
                p[i] = max(p[i], edge) if label else min(p[i], edge)
        return p

    def p_clickbait_from_arrays(self, arrays) -> np.ndarray:
        """Calibrated p_clickbait, shape (n,), from the CSR arrays of a feature
        matrix (:func:`model.fast_features.small_batch_arrays`)."""
        weights = self._scoring_weights()
        scores = np.empty(arrays.shape[0])
        for row in range(arrays.shape[0]):
            start, end = arrays.indptr[row], arrays.indptr[row + 1]
            scores[row] = arrays.data[start:end] @ weights[arrays.indices[start:end]]
        return self._calibrate(scores + float(self.intercept_[0]))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """1 where the calibrated p_clickbait >= ``threshold_``, else 0."""
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(np.int64)

    def feature_names(self) -> np.ndarray:
        """Names of the feature columns, e.g. ``word__明星``, ``char__八卦``, ``bait__shock``."""
        check_is_fitted(self, "coef_")
        return self.features_.get_feature_names_out()


class TopicPrior:
    """Naive Bayes topic evidence of headlines, for :class:`HeadlineClassifier`.

    The centred joint log-likelihood of K categories given a feature row x
    (n_features,) is ``t(x) = x @ W.T + bias_`` with W (K, n_features) the
    centred log feature probabilities of scikit-learn's ``MultinomialNB(alpha)``
    (its ``feature_log_prob_`` minus their mean over categories; its
    ``class_log_prior_`` centred is ``bias_``; tests/test_core_fast_path.py
    compares them). W is never built: with C the summed feature values per
    category and ``T_k = sum_j C_kj + alpha n_features``,

        log((C_kj + alpha) / T_k) = log1p(C_kj / alpha) + (log(alpha) - log(T_k)),

    a sparse matrix S (zero wherever a category never saw a feature) plus one
    number per category, a_k. So W = S + a_k - mean_k(a) - m_j, with
    m = mean_k S (n_features,); at 4x the corpora a dense W is 800 MB.

    After :meth:`fit_folds`: ``log_counts_`` (S, sparse CSR float64, (K,
    n_features)), ``topic_offsets_`` (a - mean(a), (K,)), ``feature_means_``
    (m, (n_features,)) and ``bias_`` (K,) of the naive Bayes fitted on every
    category headline; ``out_of_fold_`` (n, K), t(x) for each policy row from
    the naive Bayes of its fold, which was fitted without the category rows
    that share the row's text. The per-category feature values are summed
    once; a fold's are the total minus those of the few category rows it
    leaves out.
    """

    def __init__(self, alpha: float):
        self.alpha = alpha

    def fit_folds(self, features, texts: list[str], folds: np.ndarray, topic_features,
                  topic_texts: list[str], topic_y: np.ndarray) -> "TopicPrior":
        fold_of = {text: fold for text, fold in zip(texts, folds)}
        topic_folds = np.fromiter((fold_of.get(t, -1) for t in topic_texts), dtype=np.int64,
                                  count=len(topic_texts))
        classes, category = np.unique(topic_y, return_inverse=True)
        self.classes_ = classes
        counts = _category_counts(topic_features, category, len(classes))
        class_counts = np.bincount(category, minlength=len(classes)).astype(np.float64)
        self.out_of_fold_ = np.zeros((features.shape[0], len(classes)))
        for k in np.unique(folds):
            left_out = np.flatnonzero(topic_folds == k)
            fold_counts = counts - _category_counts(topic_features[left_out],
                                                    category[left_out], len(classes))
            self._set_log_probabilities(fold_counts, class_counts - np.bincount(
                category[left_out], minlength=len(classes)))
            rows = folds == k
            self.out_of_fold_[rows] = self.log_likelihood(features[rows])
        self._set_log_probabilities(counts, class_counts)
        log.info("topic prior: %d categories from %d headlines", len(classes), len(topic_y))
        return self

    def _set_log_probabilities(self, counts: sp.csr_matrix, class_counts: np.ndarray) -> None:
        """Set ``log_counts_``, ``topic_offsets_``, ``feature_means_`` and
        ``bias_`` to the naive Bayes with these per-category feature sums
        ``counts`` (sparse (K, n_features)) and headline counts
        ``class_counts`` (K,), as MultinomialNB computes it (each fold sets
        them in turn; the last call, on every headline, is what is kept); a
        category without headlines (left out by a fold) gets uniform feature
        probabilities (the formula gives them: C = 0) and a prior of 1e-6."""
        n_features = counts.shape[1]
        log_counts = counts.tocsr(copy=True)
        log_counts.data = np.log1p(log_counts.data / self.alpha)
        totals = np.asarray(counts.sum(axis=1)).ravel() + self.alpha * n_features
        offsets = np.log(self.alpha) - np.log(totals)
        present = class_counts > 0
        prior = np.full(len(class_counts), np.log(1e-6))
        prior[present] = np.log(class_counts[present]) - np.log(class_counts[present].sum())
        self.log_counts_ = log_counts
        self.topic_offsets_ = offsets - offsets.mean()
        self.feature_means_ = np.asarray(log_counts.mean(axis=0)).ravel()
        self.bias_ = prior - prior.mean()

    def log_likelihood(self, X) -> np.ndarray:
        """t(x) of each row of ``X`` (n, n_features) sparse: shape (n, K)."""
        sums = np.asarray(X.sum(axis=1)).reshape(-1, 1)
        return ((X @ self.log_counts_.T).toarray()
                + sums * self.topic_offsets_.reshape(1, -1)
                - (X @ self.feature_means_).reshape(-1, 1) + self.bias_)

    def weights_row(self, k: int) -> np.ndarray:
        """Row k of W: category k's centred log feature probabilities, (n_features,)."""
        return (self.log_counts_[k].toarray().ravel() + self.topic_offsets_[k]
                - self.feature_means_)

    def weights_dot(self, topic_coef: np.ndarray) -> np.ndarray:
        """``W.T @ topic_coef`` for ``topic_coef`` (K,): shape (n_features,)."""
        return (self.log_counts_.T @ topic_coef + float(self.topic_offsets_ @ topic_coef)
                - self.feature_means_ * float(topic_coef.sum()))


def _logistic_regression(design, y: np.ndarray, weights: np.ndarray, C: float,
                         random_state: int) -> LogisticRegression:
    """L2 logistic regression (liblinear) on ``design`` (n, d) with ``y`` (n,)
    and sample ``weights`` (n,)."""
    return LogisticRegression(C=C, solver="liblinear", random_state=random_state).fit(
        design, y, sample_weight=weights)


def _stop_idle_workers() -> None:
    """Stop joblib's worker processes after the regressions. They would stay
    300 s for the next task, each holding its copy of the data it fitted on
    (480 MB together at 4x the corpora), while the rest of the fit runs.
    Threads instead of processes hold no copy, but fitted 1.8x slower at 4x."""
    backend, n_jobs = get_active_backend()
    if isinstance(backend, LokyBackend) and n_jobs not in (None, 1):  # None: one process
        get_reusable_executor().shutdown(wait=True)


def _category_counts(features, category: np.ndarray, n_categories: int) -> sp.csr_matrix:
    """Per category, the summed feature values: sparse CSR float64 (K, n_features)."""
    indicator = sp.csr_matrix((np.ones(len(category)), (category, np.arange(len(category)))),
                              shape=(n_categories, len(category)))
    return (indicator @ features).astype(np.float64, copy=False).tocsr()


def _check_fitted(classifier: HeadlineClassifier) -> None:
    """check_is_fitted(classifier, "coef_") without its ~20 us of introspection."""
    if "coef_" not in classifier.__dict__:
        check_is_fitted(classifier, "coef_")


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-12), 1 - 1e-12)
    return float(np.log(p) - np.log1p(-p))


def threshold_at_precision(y: np.ndarray, p: np.ndarray, precision: float) -> float:
    """The cut in ``p`` (shape (n,)) with the highest recall on ``y`` among cuts
    whose precision is at least ``precision``; the cut of highest precision if
    none reaches it."""
    precisions, recalls, thresholds = precision_recall_curve(y, p)
    precisions, recalls = precisions[:-1], recalls[:-1]
    reaching = np.flatnonzero(precisions >= precision)
    if not len(reaching):
        return float(thresholds[int(np.argmax(precisions))])
    return float(thresholds[reaching[np.argmax(recalls[reaching])]])
