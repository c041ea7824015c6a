"""Quality: our default model against fastText on the held-out policy set.

Binary task (clickbait or substantive under ``POLICY.md``): the default
recipe's data as :func:`training.train.load_training_data` splits it. Both
models train on the same policy-labelled rows (``data.policy``) and are
tested on the held-out policy set (``data.evaluation``: policy_gold/dev.tsv,
792 headlines), overall and per part (``real_pages``: link texts of real
portal pages; ``unlabeled``: the TNEWS pool). Ours is fitted here with
:func:`training.train.fit_classifier` on the policy rows with the category
corpora' training part as its topic prior (the held-out fit ``train_recipe``
measures, not the bundled model, which is refitted on the held-out set too).
fastText cannot use a topic prior: it sees the policy rows' texts and labels
only. Metrics: ROC-AUC and average precision of p_clickbait, and precision,
recall and F1 at a threshold chosen by the same rule for both (highest recall
at precision >= 0.9: ours on its cross-fitted training predictions, its
stored threshold; fastText on its validation part of the training rows).
Ours is also measured on the category validation split (per corpus, labels
from the recipe's category table): the topic signal must not collapse.

``--quick`` samples (seeded) ``quality_train`` policy rows, ten times as many
topic-prior rows, ``quality_test`` held-out rows and ten times as many
category validation rows.

10-class task: THUCNews, train on thucnews/dev.txt, test on thucnews/test.txt
(the published setup trains on a 180,000-headline train.txt that is not in
this repository's data, so the published figures are context, not a match).
"""

from __future__ import annotations

import logging
import time

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, f1_score
from sklearn.model_selection import train_test_split

from benchmarks import fasttext_baseline as ft
from benchmarks.config import BenchConfig
from benchmarks.multiclass import MulticlassHeadlines
from model.classifier import threshold_at_precision
from model.normalize import normalize_many
from training.corpora import read_thucnews
from training.dataset import Dataset
from training.evaluation import evaluate
from training.recipes import load_recipe
from training.train import TrainingData, fit_classifier, load_training_data, measure

log = logging.getLogger(__name__)

# Topic-prior rows per policy row in --quick (the full data has ~25).
QUICK_TOPIC_FACTOR = 10

# Chinese-Text-Classification-Pytorch README: test accuracy on THUCNews
# test.txt after training on its 180,000-headline train.txt (context only).
PUBLISHED_THUCNEWS = {"TextCNN": 0.9122, "TextRNN": 0.9112, "TextRNN_Att": 0.9090,
                      "TextRCNN": 0.9154, "FastText (PyTorch, bow+bigram+trigram)": 0.9223,
                      "DPCNN": 0.9125, "Transformer": 0.8991, "BERT": 0.9483,
                      "ERNIE": 0.9461}


def _sample(dataset: Dataset, n: int | None, seed: int = 0) -> Dataset:
    """A random subset of ``n`` rows (all rows when ``n`` is None)."""
    if n is None or n >= len(dataset):
        return dataset
    return dataset.subset(np.sort(np.random.default_rng(seed).choice(len(dataset), n,
                                                                     replace=False)))


def _times(n: int | None, factor: int) -> int | None:
    return None if n is None else factor * n


def _benchmark_data(config: BenchConfig) -> TrainingData:
    """The default recipe's split; in --quick, seeded samples of each part."""
    data = load_training_data(load_recipe("default"), config.data_dir)
    n_train, n_test = config.sizes.quality_train, config.sizes.quality_test
    return TrainingData(data.recipe, _sample(data.policy, n_train, seed=1),
                        _sample(data.evaluation, n_test, seed=2),
                        _sample(data.topics, _times(n_train, QUICK_TOPIC_FACTOR), seed=3),
                        _sample(data.topics_validation, _times(n_test, QUICK_TOPIC_FACTOR),
                                seed=4))


def _clickbait_ap(y: np.ndarray, proba: np.ndarray, labels: list[str]) -> float:
    return average_precision_score((y == "1").astype(int), proba[:, labels.index("1")])


def _ours(data: TrainingData) -> dict:
    """Our held-out fit, measured on the policy set and the category validation split."""
    started = time.perf_counter()
    classifier = fit_classifier(data.policy, data.topics)
    fit_seconds = time.perf_counter() - started
    figures = measure(classifier, data)
    return {"threshold": round(classifier.threshold_, 6),
            "target_precision": classifier.target_precision,
            "fit_seconds": round(fit_seconds, 1), **figures["policy"],
            "categories": figures["categories"], "cross_fitted": figures["cross_fitted"]}


def _fasttext(config: BenchConfig, data: TrainingData, precision: float) -> dict:
    """fastText tuned on the policy rows (no topic prior), measured on the policy set."""
    started = time.perf_counter()
    tuned = ft.tune(ft.tokenise(data.policy.texts), data.policy.y.astype(str),
                    config.sizes.fasttext_grid, _clickbait_ap)
    tuning_seconds = time.perf_counter() - started
    column = tuned.final.labels.index("1")
    threshold = threshold_at_precision((tuned.valid_y == "1").astype(int),
                                       tuned.valid_proba[:, column], precision)
    p_clickbait = tuned.final.proba(ft.tokenise(data.evaluation.texts))[:, column]
    model_path = config.work_dir / "fasttext_binary.bin"
    tuned.final.save(model_path)
    return {"params": tuned.best, "threshold": round(threshold, 6), "grid": tuned.scores,
            "tuning_seconds": round(tuning_seconds, 1), "model_path": str(model_path),
            **evaluate(data.evaluation.y, p_clickbait, threshold, data.evaluation.categories)}


def binary_quality(config: BenchConfig) -> dict:
    data = _benchmark_data(config)
    ours = _ours(data)
    return {"train": len(data.policy), "topic_prior": len(data.topics),
            "test": len(data.evaluation), "category_validation": len(data.topics_validation),
            "ours": ours, "fasttext": _fasttext(config, data, ours["target_precision"])}


def _thucnews(config: BenchConfig, name: str, n: int | None) -> tuple[list[str], np.ndarray]:
    rows = read_thucnews(config.data_dir / "thucnews" / name).rows
    if n is not None and n < len(rows):
        keep = np.sort(np.random.default_rng(1).choice(len(rows), n, replace=False))
        rows = [rows[i] for i in keep]
    return normalize_many([r.text for r in rows]), np.asarray([r.category for r in rows])


def _tune_ours(texts: list[str], labels: np.ndarray, grid: tuple[float, ...]) -> tuple[float, list]:
    inner, valid = train_test_split(np.arange(len(labels)), test_size=ft.VALIDATION_FRACTION,
                                    random_state=ft.SEED, stratify=labels)
    scores = []
    for c in grid:
        model = MulticlassHeadlines(C=c).fit([texts[i] for i in inner], labels[inner])
        accuracy = accuracy_score(labels[valid], model.predict([texts[i] for i in valid]))
        scores.append({"C": c, "score": round(float(accuracy), 4)})
    return max(scores, key=lambda s: s["score"])["C"], scores


def _multiclass_metrics(y: np.ndarray, predicted: np.ndarray) -> dict:
    return {"accuracy": round(float(accuracy_score(y, predicted)), 4),
            "macro_f1": round(float(f1_score(y, predicted, average="macro")), 4)}


def thucnews_quality(config: BenchConfig) -> dict:
    sizes = config.sizes
    train_texts, train_y = _thucnews(config, "dev.txt", sizes.quality_train)
    test_texts, test_y = _thucnews(config, "test.txt", sizes.quality_test)
    best_c, our_grid = _tune_ours(train_texts, train_y, sizes.thucnews_c_grid)
    ours = MulticlassHeadlines(C=best_c).fit(train_texts, train_y)

    def accuracy(y, proba, labels):
        return accuracy_score(y, np.asarray(labels)[proba.argmax(axis=1)])

    tuned = ft.tune(ft.tokenise(train_texts), train_y, sizes.fasttext_grid, accuracy)
    proba = tuned.final.proba(ft.tokenise(test_texts))
    predicted_ft = np.asarray(tuned.final.labels)[proba.argmax(axis=1)]
    overlap = len(set(train_texts) & set(test_texts))
    return {
        "train": len(train_texts), "test": len(test_texts), "train_test_overlap": overlap,
        "ours": {"C": best_c, "grid": our_grid,
                 **_multiclass_metrics(test_y, ours.predict(test_texts))},
        "fasttext": {"params": tuned.best, "grid": tuned.scores,
                     **_multiclass_metrics(test_y, predicted_ft)},
        "published_context": PUBLISHED_THUCNEWS,
    }


def run(config: BenchConfig) -> dict:
    return {"binary": binary_quality(config), "thucnews": thucnews_quality(config)}
