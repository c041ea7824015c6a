"""Where the default recipe's training time goes (run in a child process).

``python -m benchmarks.training_phases DATA_DIR OUT_DIR`` runs
``training.train.train_recipe`` with timers wrapped around its phases
(reading and de-duplicating the corpora, fitting the feature union, the
per-category linear fits: the full one and the out-of-fold ones for the
calibration, scoring the validation split, saving) and prints them as JSON.
The fits run in 2 worker processes, which a profiler of this process would
not see; timers around the calls do.
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
    from sklearn.pipeline import FeatureUnion

    import training.train as train
    from model.classifier import HeadlineClassifier

    _timed(train, "build_dataset", "read and de-duplicate corpora")
    _timed(FeatureUnion, "fit_transform", "fit features (TF-IDF vocabularies)")
    _timed(HeadlineClassifier, "_fit_linear", "linear fits (1 full + calibration folds)")
    _timed(HeadlineClassifier, "_out_of_fold_scores", "out-of-fold calibration (incl. its fits)")
    _timed(HeadlineClassifier, "predict_proba", "score the validation split")
    _timed(train, "save_artifact", "save the artifact (joblib, compressed)")
    started = time.perf_counter()
    train.train_recipe("default", Path(argv[0]), Path(argv[1]))
    total = time.perf_counter() - started
    print(json.dumps({"total_seconds": round(total, 2),
                      "phases": {k: {"seconds": round(v, 2), "calls": CALLS[k]}
                                 for k, v in SECONDS.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
