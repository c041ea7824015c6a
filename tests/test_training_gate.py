"""The quality gate's bootstrap: all resamples scored at once, with the same
figures scikit-learn gives on each resample (ties and one-class resamples
included)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from training.retraining import quality_gate, weighted_rankings


@pytest.mark.parametrize("n", [12, 300])
def test_weighted_rankings_equal_scikit_learn_on_every_resample(n):
    rng = np.random.default_rng(n)
    y = rng.integers(0, 2, n)
    p = np.round(rng.random(n), 1)  # many ties
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=200)
    got = weighted_rankings(y, p, counts)
    one_class = 0
    for row, figures in zip(counts, got):
        index = np.repeat(np.arange(n), row)
        if len(np.unique(y[index])) < 2:
            one_class += 1
            assert np.isnan(figures).all()
            continue
        assert figures[0] == pytest.approx(roc_auc_score(y[index], p[index]), abs=1e-12)
        assert figures[1] == pytest.approx(average_precision_score(y[index], p[index]),
                                           abs=1e-12)
    assert n > 100 or one_class > 0  # the small case exercises one-class resamples


def test_the_gate_rejects_a_clearly_worse_candidate_and_keeps_an_equal_one():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = np.clip(0.6 * y + 0.4 * rng.random(400), 0, 1)
    noise = rng.random(400)
    assert quality_gate(y, noise, good, tolerance=0.01).decision == "rejected"
    assert quality_gate(y, good, good, tolerance=0.01).decision == "promoted"
    assert quality_gate(y[:10], good[:10], good[:10], 0.01).decision == "undecided"
