"""Where the default recipe's training time goes (run in a child process).

``python -m benchmarks.training_phases DATA_DIR OUT_DIR`` runs
``training.train.train_recipe`` with timers wrapped around its phases and
prints them as JSON: reading, normalising and de-duplicating the recipe's
files and splitting them (``load_training_data``), fitting the feature
union (TF-IDF vocabularies, ``model.vocabulary.fit_union``), the naive-Bayes
topic prior (``TopicPrior.fit_folds``: one per fold and one on every
category headline), the logistic regressions (``HeadlineClassifier._regressions``,
one call per fit: one regression per fold and one on every policy row, in
parallel processes), scoring held-out data
(``predict_proba`` on the policy set and the category validation split) and
saving the artifact. What no timer covers (normalising the headlines in
``fit``, calibration, metrics, the manifest) is reported as ``other`` (no call count).

``train_recipe`` fits twice when the recipe says ``refit = true`` (the
default does): once without the held-out data, to measure it, then on
everything for the saved model. Each phase's total and call count include
both fits.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from functools import wraps
from pathlib import Path

SECONDS: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)

# Phase names; tests and the report refer to them.
READ = "read, de-duplicate and split the data (load_training_data)"
FEATURES = "fit features (TF-IDF vocabularies, model.vocabulary.fit_union)"
TOPIC_PRIOR = "topic prior (naive Bayes: folds + full, TopicPrior.fit_folds)"
REGRESSIONS = "logistic regressions (folds + full, HeadlineClassifier._regressions)"
SCORING = "score held-out data (predict_proba)"
SAVE = "save the artifact (joblib, compressed)"
OTHER = "other (normalisation, calibration, metrics, manifest)"


def _timed(owner, name: str, phase: str) -> None:
    function = getattr(owner, name)

    @wraps(function)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SECONDS[phase] += time.perf_counter() - started
            CALLS[phase] += 1

    setattr(owner, name, wrapper)


def main(argv: list[str]) -> int:
    import model.classifier as classifier
    import training.train as train
    from model.classifier import HeadlineClassifier, TopicPrior

    _timed(train, "load_training_data", READ)
    _timed(classifier, "fit_union", FEATURES)
    _timed(TopicPrior, "fit_folds", TOPIC_PRIOR)
    _timed(HeadlineClassifier, "_regressions", REGRESSIONS)
    _timed(HeadlineClassifier, "predict_proba", SCORING)
    _timed(train, "save_artifact", SAVE)
    started = time.perf_counter()
    train.train_recipe("default", Path(argv[0]), Path(argv[1]))
    total = time.perf_counter() - started
    phases = {k: {"seconds": round(v, 2), "calls": CALLS[k]} for k, v in SECONDS.items()}
    phases[OTHER] = {"seconds": round(total - sum(SECONDS.values()), 2), "calls": None}
    print(json.dumps({"total_seconds": round(total, 2), "phases": phases}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
