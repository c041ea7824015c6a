"""Metrics for the clickbait class."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (accuracy_score, average_precision_score, f1_score,
                             precision_score, recall_score, roc_auc_score)


def binary_metrics(y: np.ndarray, p_clickbait: np.ndarray, threshold: float) -> dict:
    """ROC-AUC, average precision, and F1/precision/recall/accuracy at ``threshold``.

    ``y`` has shape (n,) with 1 = clickbait; ``p_clickbait`` shape (n,) in [0, 1].
    Ranking metrics are None where ``y`` holds a single class.
    """
    y = np.asarray(y)
    predicted = (np.asarray(p_clickbait) >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "clickbait": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, p_clickbait)), 4) if both else None,
        "average_precision": (round(float(average_precision_score(y, p_clickbait)), 4)
                              if both else None),
        "f1": round(float(f1_score(y, predicted, zero_division=0)), 4),
        "precision": round(float(precision_score(y, predicted, zero_division=0)), 4),
        "recall": round(float(recall_score(y, predicted, zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y, predicted)), 4),
    }


def evaluate(y: np.ndarray, p_clickbait: np.ndarray, threshold: float,
             groups: np.ndarray | None = None) -> dict:
    """Overall metrics, plus ``per_source`` metrics for each value of ``groups``."""
    result = binary_metrics(y, p_clickbait, threshold)
    if groups is not None:
        groups = np.asarray(groups)
        result["per_source"] = {
            str(g): binary_metrics(np.asarray(y)[groups == g], np.asarray(p_clickbait)[groups == g],
                                   threshold)
            for g in sorted(set(groups.tolist()))
        }
    return result
