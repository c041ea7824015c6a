"""Ablation of the policy model on the held-out policy set (docs/model.md's table).

``python -m benchmarks.policy_ablation`` fits each variant on the default
recipe's training data (policy_gold/dev.tsv and the category validation split
held out, never refitted on) and writes ``benchmarks/results/policy_ablation.md``:
ROC-AUC and AP overall and per part, precision and recall at the variant's
own stored threshold (highest cross-fitted recall at precision >= 0.9), the
category split's ROC-AUC and the fit time. About 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from model.classifier import HeadlineClassifier
from training.dataset import Dataset
from training.locations import data_dir
from training.recipes import load_recipe
from training.train import TrainingData, fit_classifier, load_training_data, measure

RESULTS = Path(__file__).resolve().parent / "results" / "policy_ablation.md"


def _merged_families(topics: Dataset) -> Dataset:
    """Toutiao's categories counted as TNEWS's (the same label space)."""
    categories = np.asarray([c.replace("toutiao:", "tnews:") for c in topics.categories],
                            dtype=object)
    return Dataset(topics.texts, topics.y, categories, topics.report)


def _categories_as_target(data: TrainingData, params: dict) -> HeadlineClassifier:
    """The old design's data: category labels as the target, no policy labels."""
    return fit_classifier(data.policy.subset(np.zeros(0, dtype=np.int64)), data.topics, params)


def _categories_as_rows(data: TrainingData, params: dict, weight: float) -> HeadlineClassifier:
    """Category rows added to the policy rows with ``weight`` (no topic prior)."""
    rows = data.topics.without(set(data.policy.texts))
    texts = data.policy.texts + rows.texts
    y = np.concatenate([data.policy.y, rows.y])
    weights = np.concatenate([np.ones(len(data.policy)), np.full(len(rows), weight)])
    classifier = HeadlineClassifier(**params).fit(texts, y, sample_weight=weights)
    classifier.oof_p_clickbait_ = classifier.oof_p_clickbait_[:len(data.policy)]
    return classifier


def variants(data: TrainingData):
    """(name, fit function) of each variant; the first is the default."""
    policy, topics = data.policy, data.topics
    none = policy.subset(np.zeros(0, dtype=np.int64))
    return [
        ("default: policy target + topic prior + bait groups",
         lambda: fit_classifier(policy, topics)),
        ("categories as the target (the old data), no policy labels",
         lambda: _categories_as_target(data, {})),
        ("policy labels only: no topic prior", lambda: fit_classifier(policy, none)),
        ("policy + category rows as training rows (weight 0.1), no prior",
         lambda: _categories_as_rows(data, {}, 0.1)),
        ("no bait groups", lambda: fit_classifier(policy, topics, {"bait": False})),
        ("no style signals", lambda: fit_classifier(policy, topics, {"style": False})),
        ("no bait groups, no style signals",
         lambda: fit_classifier(policy, topics, {"bait": False, "style": False})),
        ("Toutiao merged into TNEWS's categories",
         lambda: fit_classifier(policy, _merged_families(topics))),
        ("C = 2", lambda: fit_classifier(policy, topics, {"C": 2.0})),
        ("C = 32", lambda: fit_classifier(policy, topics, {"C": 32.0})),
        ("topic weight 0.03", lambda: fit_classifier(policy, topics, {"topic_weight": 0.03})),
        ("topic weight 0.3", lambda: fit_classifier(policy, topics, {"topic_weight": 0.3})),
        ("min_df = 2", lambda: fit_classifier(policy, topics, {"min_df": 2})),
        ("char 1-4-grams", lambda: fit_classifier(policy, topics, {"char_ngrams": (1, 4)})),
    ]


def _row(name: str, figures: dict, seconds: float) -> str:
    policy = figures["policy"]
    parts = policy["per_source"]
    cells = [name]
    for metrics in (policy, parts["real_pages"], parts["unlabeled"]):
        cells.append(f"{metrics['roc_auc']:.3f} / {metrics['average_precision']:.3f}")
    cells.append(f"{policy['precision']:.2f} / {policy['recall']:.2f}")
    real = parts["real_pages"]
    cells.append(f"{real['precision']:.2f} / {real['recall']:.2f}")
    cells.append(f"{figures['categories']['roc_auc']:.3f}")
    cells.append(f"{seconds:.0f}")
    return "| " + " | ".join(cells) + " |"


HEADER = ("| variant | dev AUC / AP | real pages AUC / AP | TNEWS pool AUC / AP "
          "| P / R at threshold | real pages P / R | category split AUC | fit s |\n"
          "|---|---|---|---|---|---|---|---|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", type=int, nargs="*", help="variant numbers (0 = default)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    data = load_training_data(load_recipe("default"), data_dir())
    rows = [HEADER]
    for number, (name, fit) in enumerate(variants(data)):
        if args.only and number not in args.only:
            continue
        started = time.perf_counter()
        classifier = fit()
        seconds = time.perf_counter() - started
        rows.append(_row(name, measure(classifier, data), seconds))
        print(rows[-1], flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
