"""The learning curve of the editors' loop: held-out policy quality against the
number of editor labels, in both retraining modes.

The starting point is a model that has never seen a policy label: the default
recipe's category corpora with their category labels as the target (what the
product was before issue 9). Editors then label 0, 100, 300, 1,000 and 3,000
headlines, taken in a fixed random order from ``policy_gold/train.tsv``;
each point is measured on ``policy_gold/dev.tsv`` (never trained on), at the
model's stored threshold.

- ``labels`` mode: the starting model refitted on the labels
  (:func:`model.adaptation.adapt_to_labels`), as on a fresh install;
- ``corpora`` mode: the category corpora refitted with the labels in the
  target (:func:`training.train.fit_with_labels`), then refitted on them.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from benchmarks.config import BenchConfig
from model.adaptation import adapt_to_labels
from training.dataset import Dataset
from training.evaluation import evaluate
from training.recipes import load_recipe
from training.train import TrainingData, fit_classifier, fit_with_labels, load_training_data

log = logging.getLogger(__name__)

FULL_COUNTS = (0, 100, 300, 1_000, 3_000)
QUICK_COUNTS = (0, 50, 150)


def _none(dataset: Dataset) -> Dataset:
    return dataset.subset(np.zeros(0, dtype=np.int64))


def _measure(classifier, evaluation: Dataset) -> dict:
    p = classifier.predict_proba(evaluation.texts)[:, 1]
    figures = evaluate(evaluation.y, p, classifier.threshold_, evaluation.categories)
    return {"roc_auc": figures["roc_auc"], "average_precision": figures["average_precision"],
            "precision": figures["precision"], "recall": figures["recall"],
            "real_pages_roc_auc": figures["per_source"]["real_pages"]["roc_auc"]}


def run(config: BenchConfig) -> dict:
    data = load_training_data(load_recipe("default"), config.data_dir)
    counts = QUICK_COUNTS if config.quick else FULL_COUNTS
    topics = data.topics + data.topics_validation
    if config.quick:
        topics = topics.subset(np.sort(np.random.default_rng(3).choice(len(topics), 4_000,
                                                                       replace=False)))
    order = np.random.default_rng(0).permutation(len(data.policy))
    started = time.perf_counter()
    start = fit_classifier(_none(data.policy), topics)  # categories as the target
    log.info("starting model (categories only) fitted in %.1f s", time.perf_counter() - started)
    categories_only = TrainingData(data.recipe, _none(data.policy), _none(data.evaluation),
                                   topics, _none(topics))
    points = []
    for count in counts:
        chosen = order[:count]
        texts = [data.policy.texts[i] for i in chosen]
        y = data.policy.y[chosen]
        for mode in ("labels", "corpora"):
            started = time.perf_counter()
            if count == 0:
                classifier = start
            elif mode == "labels":
                classifier = adapt_to_labels(start, texts, y)
            else:
                fitted, _ = fit_with_labels(categories_only, texts, y)
                classifier = adapt_to_labels(fitted, texts, y)
            seconds = time.perf_counter() - started
            point = {"labels": count, "mode": mode, "seconds": round(seconds, 1),
                     **_measure(classifier, data.evaluation)}
            log.info("learning curve: %s", point)
            points.append(point)
    return {"counts": list(counts), "points": points,
            "evaluation": {"file": "policy_gold/dev.tsv", "n": len(data.evaluation)}}
