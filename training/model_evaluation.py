"""Evaluate a loaded model on labelled files or on a recipe's held-out data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.normalize import normalize_many
from model.scoring import Model
from training.corpora import CorpusError, read_corpus
from training.dataset import Dataset, DatasetReport, build_policy, deduplicate
from training.evaluation import evaluate
from training.recipes import load_recipe
from training.splits import DEFAULT_SEED, DEFAULT_VALIDATION_FRACTION
from training.train import load_training_data


def _metrics(model: Model, data: Dataset, groups: np.ndarray) -> dict:
    if not len(data):
        raise CorpusError("no labelled rows in the given files")
    metrics = evaluate(data.y, model.predict_proba(data.texts), model.threshold, groups)
    metrics["malformed_rows"] = len(data.report.problems)
    return metrics


def evaluate_files(model: Model, files: list[Path], reader: str,
                   recipe: str = "default") -> dict:
    """Metrics of ``model`` on the union of ``files`` (de-duplicated), per file too.

    Corpus formats are labelled with ``recipe``'s category mapping; ``table``
    files carry their labels."""
    clickbait = load_recipe(recipe).clickbait_categories(reader)
    texts, labels, groups = [], [], []
    report = DatasetReport()
    for path in files:
        read = read_corpus(reader, path)
        report.problems.extend(read.problems)
        texts.extend(row.text for row in read.rows)
        labels.extend(int(row.category in clickbait) for row in read.rows)
        groups.extend([Path(path).name] * len(read.rows))
    data = deduplicate(normalize_many(texts), labels, groups, report)
    return _metrics(model, data, data.corpus)


def evaluate_policy(model: Model, files: list[Path]) -> dict:
    """Metrics on policy-labelled TSV files, overall and per part (origin folder)."""
    data = build_policy([str(f) for f in files], Path.cwd())
    return _metrics(model, data, data.categories)


def evaluate_recipe(model: Model, recipe: str, data_dir: Path,
                    seed: int = DEFAULT_SEED,
                    fraction: float = DEFAULT_VALIDATION_FRACTION) -> dict:
    """Metrics of ``model`` on the recipe's held-out data, side by side:
    ``policy`` (its evaluation files, per part) and ``categories`` (the
    category validation split, per corpus; same split as training).

    A model refitted on that data (the bundled one) has seen it: ``note`` says
    so and ``held_out`` repeats the figures measured before the refit."""
    data = load_training_data(load_recipe(recipe), data_dir, seed, fraction)
    result: dict = {}
    if len(data.evaluation):
        result["policy"] = _metrics(model, data.evaluation, data.evaluation.categories)
    if len(data.topics_validation):
        result["categories"] = _metrics(model, data.topics_validation,
                                        data.topics_validation.corpus)
    if model.manifest.get("refit_on_held_out"):
        result["note"] = ("this model was refitted on the held-out data after it was measured: "
                          "the figures above are in-sample; 'held_out' has the figures "
                          "measured before the refit")
        result["held_out"] = model.manifest.get("held_out")
    return result
