"""Teach a fitted headline classifier the editors' labels, in its own feature space.

A :class:`~model.classifier.HeadlineClassifier` is one weight vector ``w`` over
its features (TF-IDF word and character n-grams, style and bait-style
signals); its vocabulary ships with it. :func:`adapt_to_labels` refits that
vector on the labels with a penalty towards the current weights::

    minimise  sum_i  s_i * log(1 + exp(margin - t_i * (z_i - logit(threshold))))
              + sum_j  lambda_j / 2 * (w_j - w0_j)^2

where ``z_i = a * (x_i . w + b) + c`` is the calibrated logit of headline i
(calibration ``a``, ``c`` and intercept ``b`` kept), ``t_i`` is +1 for
clickbait and -1 for substantive, and ``s_i`` a weight (substantive labels
count ``substantive_weight`` times: hiding real news is the worse error).

- Every n-gram of a labelled headline can move, so the labels reach unseen
  headlines that share their words (300 game headlines labelled clickbait
  move game headlines in general), not only near copies.
- ``lambda_j`` is ``strength`` for the n-grams and ``strength *
  dense_factor`` for the dense style and bait-style columns, which every
  headline has: left free they would act as a second intercept and move every
  headline's score.
- ``anchor`` keeps what the model knew: each weight's change is also
  penalised by ``anchor * fisher_j``, where ``fisher_`` (kept at fit time)
  is the Fisher information of the weight over the training headlines
  (elastic weight consolidation, Kirkpatrick et al. 2017). Weights of words
  that many training headlines share (common characters, topic-wide
  directions) hardly move on twenty labels; the words of a labelled topic move
  freely. ``anchor`` is the number of training headlines the change is
  weighed against, in the units of the labels' loss.
- The margin pushes each labelled headline ``margin`` log-odds past the
  threshold, so it stays on its side after small edits.
- When the classifier keeps its topic directions (``topic_directions_``:
  each source category's most characteristic features, from the naive
  Bayes prior it was fitted with), the weights may also move along them:
  ``w = w0 + delta + directions.T @ beta``, with ``beta`` (one number per
  topic) penalised by ``topic_strength``. Labels on a few hundred game
  headlines then move game headlines in general, through the words of the
  game topic the labels never used.

The adapted classifier is a plain ``HeadlineClassifier`` again (same
features, calibration and threshold; new ``coef_``), scored by the same fast
path, plus exact corrections: ``corrections_`` maps each labelled
headline's normalised text to its label, and the classifier answers those
headlines on their labelled side of the threshold whatever the weights say.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from model.classifier import _logit
from model.normalize import normalize_many

DEFAULT_STRENGTH = 0.1
DEFAULT_DENSE_FACTOR = 1000.0
DEFAULT_GROUP_FACTOR = 10.0
DEFAULT_MARGIN = 1.5
DEFAULT_SUBSTANTIVE_WEIGHT = 12.0
DEFAULT_TOPIC_STRENGTH = 0.5
DEFAULT_ANCHOR = 1000.0
GRADIENT_TOLERANCE = 1e-5  # L2 norm of the loss's gradient at the solution


def _column_factors(classifier, dense_factor: float, group_factor: float) -> np.ndarray:
    """Per column, shape (n_features,), the multiple of ``strength`` that
    penalises its change: 1 for TF-IDF n-grams, ``group_factor`` for the
    bait-style phrase groups (sparse, topic-like), ``dense_factor`` for the
    style signals and position signals, which most headlines have."""
    from model.bait_style import BaitFeatures, POSITION_SIGNALS

    factors = []
    for _, transformer in classifier.features_.transformer_list:
        names = transformer.get_feature_names_out()
        if hasattr(transformer, "idf_"):
            factors.append(np.ones(len(names)))
        elif isinstance(transformer, BaitFeatures):
            factors.append(np.where(np.isin(names, POSITION_SIGNALS), dense_factor,
                                    group_factor))
        else:
            factors.append(np.full(len(names), dense_factor))
    return np.concatenate(factors)


def adapt_to_labels(base, X: Sequence[str], y, strength: float = DEFAULT_STRENGTH,
                    dense_factor: float = DEFAULT_DENSE_FACTOR,
                    group_factor: float = DEFAULT_GROUP_FACTOR, margin: float = DEFAULT_MARGIN,
                    substantive_weight: float = DEFAULT_SUBSTANTIVE_WEIGHT,
                    topic_strength: float = DEFAULT_TOPIC_STRENGTH,
                    anchor: float = DEFAULT_ANCHOR):
    """A copy of ``base`` (a fitted HeadlineClassifier) refitted on ``X`` (n
    headlines) and ``y`` (n ints, 1 = clickbait); see the module docstring.
    One class alone is fine. ``base`` is not modified."""
    texts = normalize_many(list(X))
    y = np.asarray(y, dtype=np.int64)
    if len(texts) == 0 or len(texts) != len(y):
        raise ValueError(f"need as many labels as headlines, at least one (got {len(texts)} "
                         f"headlines, {len(y)} labels)")
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError("labels must be 0 (substantive) or 1 (clickbait)")
    adapted = copy.copy(base)  # shares the (unchanged) feature union and calibrator
    adapted.__dict__.pop("_weights_cache", None)
    features = base.transform(texts).tocsr()
    w0 = base.coef_[0].astype(np.float64)
    fisher = getattr(base, "fisher_", None)  # absent in models fitted before it existed
    fisher = np.zeros(len(base.coef_[0])) if fisher is None else fisher.astype(np.float64)
    penalty = strength * _column_factors(base, dense_factor, group_factor) + anchor * fisher
    weights = np.where(y == 1, 1.0, float(substantive_weight))
    weights *= len(y) / weights.sum()
    sign = np.where(y == 1, 1.0, -1.0)
    a = float(base.calibrator_.coef_[0, 0])
    offset = (a * float(base.intercept_[0]) + float(base.calibrator_.intercept_[0])
              - _logit(base.threshold_))

    directions = getattr(base, "topic_directions_", None)
    topics = (np.zeros((len(texts), 0)) if directions is None
              else np.asarray((features @ directions.T).todense()))  # (n, K)
    topic_penalty = topic_strength + (  # (K,): the Fisher of each direction, diagonal part
        np.zeros(0) if directions is None
        else anchor * np.asarray(directions.multiply(directions) @ fisher).ravel())
    # Only the columns the labelled headlines use can move on their own (the
    # others have no gradient but the penalty's, so they stay at w0): solve
    # in that subspace, a few thousand variables instead of all the features.
    used = np.unique(features.indices)
    features, penalty = features[:, used], penalty[used]
    base_logits = features @ w0[used]
    n_used = len(used)

    last: dict[str, np.ndarray] = {}  # theta -> the loss's curvature per headline

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        delta, beta = theta[:n_used], theta[n_used:]
        excess = margin - sign * (a * (base_logits + features @ delta + topics @ beta) + offset)
        p = expit(excess)
        last["theta"], last["curvature"] = theta.copy(), a * a * weights * p * (1.0 - p)
        loss = float(weights @ np.logaddexp(0.0, excess))
        loss += 0.5 * float(penalty @ delta ** 2) + 0.5 * float(topic_penalty @ beta ** 2)
        slope = -sign * weights * p
        return loss, np.concatenate([a * (features.T @ slope) + penalty * delta,
                                     a * (topics.T @ slope) + topic_penalty * beta])

    def hessian_times(theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        if "theta" not in last or not np.array_equal(last["theta"], theta):
            loss_and_gradient(theta)
        u = last["curvature"] * (features @ v[:n_used] + topics @ v[n_used:])
        return np.concatenate([features.T @ u + penalty * v[:n_used],
                               topics.T @ u + topic_penalty * v[n_used:]])

    # The loss is strictly convex: Newton steps (conjugate gradients on
    # Hessian-vector products, in a trust region) reach its minimum in some
    # 20 iterations, where L-BFGS-B took ~200 and most of its time in its
    # own bookkeeping for ~10^5 variables.
    result = minimize(loss_and_gradient, np.zeros(n_used + topics.shape[1]), jac=True,
                      hessp=hessian_times, method="trust-ncg",
                      options={"gtol": GRADIENT_TOLERANCE, "maxiter": 200})
    coef = w0.copy()
    coef[used] += result.x[:n_used]
    beta = result.x[n_used:]
    if directions is not None:
        coef = coef + np.asarray(directions.T @ beta).ravel()
    adapted.coef_ = coef.astype(np.float32).reshape(1, -1)
    adapted.corrections_ = {**getattr(base, "corrections_", {}),
                            **{text: int(label) for text, label in zip(texts, y)}}
    return adapted

