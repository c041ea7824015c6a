"""Retraining from editors' labels: the held-out slice, the candidate, the gate.

The service reads the labels and the active model and stores what comes out
(:mod:`service.retraining`); the decisions are made here.

- :func:`split_labels`: a fixed share of the labelled headlines (by a hash
  of the normalised text, :func:`is_holdout`) is held out for the gate and
  never trained on.
- :func:`fit_candidate`: ``labels`` mode refits the active model's weights on
  the training labels (:func:`model.adaptation.adapt_to_labels`); ``corpora``
  mode first fits the recipe with the labels in its target (weighted
  ``label_weight``), then adapts that model to the labels the same way, so
  labels that contradict the recipe's policy rows still win.
- :func:`quality_gate`: candidate and active on the held-out labels, a
  paired bootstrap of the differences in ROC-AUC and average precision.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from model.adaptation import adapt_to_labels
from model.classifier import LABELS

MIN_HELD_OUT = 20  # fewer held-out labels (or one class only): the gate cannot judge
BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_CHUNK = 100  # resamples scored at once (memory: a few (chunk, n) arrays)
CONFIDENCE = 0.95
DEFAULT_LABEL_WEIGHT = 3.0


def is_holdout(normalized: str, fraction: float) -> bool:
    """True if the normalised headline belongs to the held-out slice.

    Decided by the SHA-256 of the text, so a headline stays on the same side
    across jobs and processes (Python's ``hash`` is salted per process).
    """
    bucket = int.from_bytes(hashlib.sha256(normalized.encode("utf-8")).digest()[:8], "big")
    return bucket / 2.0 ** 64 < fraction


@dataclass
class Labelled:
    """Normalised headlines ``texts``, targets ``y`` (1 = clickbait), ``group`` per row."""

    texts: list[str] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    group: list[str] = field(default_factory=list)

    def extend(self, texts, y, group: str) -> None:
        self.texts.extend(texts)
        self.y.extend(int(v) for v in y)
        self.group.extend([group] * len(texts))

    def __len__(self) -> int:
        return len(self.texts)


def split_labels(rows: list[dict], fraction: float) -> tuple[Labelled, Labelled]:
    """(training labels, held-out labels) from current label rows
    (``normalized`` and ``label`` keys, label one of :data:`model.classifier.LABELS`)."""
    train, holdout = Labelled(), Labelled()
    for row in rows:
        part = holdout if is_holdout(row["normalized"], fraction) else train
        part.extend([row["normalized"]], [LABELS.index(row["label"])], "labels")
    return train, holdout


def fit_candidate(mode: str, base, train: Labelled, recipe: str | Path | None = None,
                  data_dir: Path | None = None, label_weight: float = DEFAULT_LABEL_WEIGHT
                  ) -> tuple[object, dict]:
    """(candidate classifier, details for its manifest) from the training labels.

    ``labels``: ``base`` (the active classifier) refitted on the labels.
    ``corpora``: ``recipe`` under ``data_dir`` fitted with the labels, then
    refitted on them.
    """
    if not len(train):
        raise ValueError("no training labels")
    y = np.asarray(train.y)
    if mode == "labels":
        return adapt_to_labels(base, train.texts, y), {"kind": "adapted"}
    from training.recipes import load_recipe
    from training.train import fit_with_labels, load_training_data

    loaded = load_recipe(recipe)
    data = load_training_data(loaded, Path(data_dir))
    params = base.get_params() if hasattr(base, "get_params") else {}
    fitted, counts = fit_with_labels(data, train.texts, y, params, label_weight)
    details = {"kind": "retrained", "recipe": {"name": loaded.name, "file": loaded.path.name},
               "params": fitted.get_params(), "data": counts, "label_weight": label_weight}
    return adapt_to_labels(fitted, train.texts, y), details


@dataclass(frozen=True)
class GateDecision:
    """``decision``: ``promoted``, ``rejected`` or ``undecided`` (too few
    held-out labels: the candidate waits for a manual promotion)."""

    decision: str
    reason: str
    figures: dict


def _ranking(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    return float(roc_auc_score(y, p)), float(average_precision_score(y, p))


def weighted_rankings(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC-AUC and average precision of scores ``p`` (n,) for labels ``y`` (n,)
    under each row of ``weights`` (R, n) (a bootstrap resample is a row of
    counts), shape (R, 2); NaN for a row without both classes.

    The same figures as scikit-learn's ``roc_auc_score`` and
    ``average_precision_score`` on the resampled data (ties included: one
    threshold per distinct score), for all rows at once: the scores are
    sorted once instead of once per resample.
    """
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order].astype(float)
    last_of_tie = np.r_[np.flatnonzero(np.diff(p_sorted)), len(p) - 1]
    w = weights[:, order].astype(float)
    tps = np.cumsum(w * y_sorted, axis=1)[:, last_of_tie]  # (R, thresholds)
    fps = np.cumsum(w * (1.0 - y_sorted), axis=1)[:, last_of_tie]
    positives, negatives = tps[:, -1:], fps[:, -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr, fpr = tps / positives, fps / negatives
        zero = np.zeros((len(w), 1))
        tpr0, fpr0 = np.hstack([zero, tpr]), np.hstack([zero, fpr])
        auc = np.sum(np.diff(fpr0, axis=1) * (tpr0[:, 1:] + tpr0[:, :-1]) / 2.0, axis=1)
        predicted = tps + fps
        precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted > 0)
        ap = np.sum(np.diff(tpr0, axis=1) * precision, axis=1)
    both = (positives[:, 0] > 0) & (negatives[:, 0] > 0)
    return np.where(both[:, None], np.column_stack([auc, ap]), np.nan)


def quality_gate(y, p_candidate, p_active, tolerance: float,
                 rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0) -> GateDecision:
    """Compare the candidate with the active model on the held-out labels.

    ``y`` (n,) 1 = clickbait; ``p_*`` (n,) each model's p_clickbait. The
    differences candidate - active in ROC-AUC and AP are bootstrapped over
    the held-out headlines (the same resample for both models: paired). The
    candidate is rejected if, for either metric, the upper end of the
    95% interval is below ``-tolerance`` (worse beyond doubt and beyond the
    tolerance); else promoted. With fewer than :data:`MIN_HELD_OUT` held-out
    labels, or one class only, the answer is ``undecided``.
    """
    y = np.asarray(y, dtype=np.int64)
    p_candidate, p_active = np.asarray(p_candidate, float), np.asarray(p_active, float)
    n = len(y)
    if n < MIN_HELD_OUT or len(np.unique(y)) < 2:
        return GateDecision("undecided", f"not enough held-out labels to judge (n = {n}, "
                            f"{int(y.sum())} clickbait; needs {MIN_HELD_OUT} with both "
                            "labels): promote it by hand if it looks right, or send more "
                            "labels and retrain", {"n": n})
    rng = np.random.default_rng(seed)
    parts = []
    for start in range(0, rounds, BOOTSTRAP_CHUNK):  # bounded memory for large hold-outs
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=min(BOOTSTRAP_CHUNK,
                                                                 rounds - start))
        parts.append(weighted_rankings(y, p_candidate, counts)
                     - weighted_rankings(y, p_active, counts))
    draws = np.concatenate(parts)
    draws = draws[~np.isnan(draws).any(axis=1)]  # resamples with one class only
    tail = (1 - CONFIDENCE) / 2
    figures = {"n": n, "rounds": len(draws)}
    worse = []
    for column, name in enumerate(("roc_auc", "average_precision")):
        candidate = _ranking(y, p_candidate)[column]
        active = _ranking(y, p_active)[column]
        low, high = np.quantile(draws[:, column], [tail, 1 - tail])
        figures[name] = {"candidate": round(candidate, 4), "active": round(active, 4),
                         "difference": round(candidate - active, 4),
                         "interval": [round(float(low), 4), round(float(high), 4)]}
        if high < -tolerance:
            worse.append(f"{name} {candidate:.4f} vs {active:.4f} (difference interval "
                         f"[{low:.4f}, {high:.4f}] below -{tolerance})")
    if worse:
        return GateDecision("rejected", f"worse than the active model on {n} held-out "
                            f"headlines: {'; '.join(worse)}", figures)
    summary = ", ".join(f"{name} {figures[name]['active']:.4f} -> "
                        f"{figures[name]['candidate']:.4f} (interval "
                        f"{figures[name]['interval']})" for name in ("roc_auc",
                                                                    "average_precision"))
    return GateDecision("promoted", f"not worse than the active model on {n} held-out "
                        f"headlines ({summary})", figures)
