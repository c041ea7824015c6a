"""Train a model version from a recipe and write it as an artifact directory."""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import asdict
from pathlib import Path

from model.artifacts import new_version_id, save_artifact
from model.classifier import HeadlineClassifier
from training.dataset import build_dataset
from training.evaluation import evaluate
from training.recipes import load_recipe
from training.splits import DEFAULT_SEED, DEFAULT_VALIDATION_FRACTION, split

log = logging.getLogger(__name__)

# The default model's hyper-parameters (see docs/model.md for how they were chosen).
DEFAULT_PARAMS: dict = {}


def train_recipe(recipe_name: str | Path, data_dir: Path, out_dir: Path,
                 params: dict | None = None, seed: int = DEFAULT_SEED,
                 validation_fraction: float = DEFAULT_VALIDATION_FRACTION) -> dict:
    """Build the recipe's dataset, fit on the training split, evaluate on the
    validation split, and save the model version to ``out_dir``.

    Returns the manifest (also written to ``out_dir/manifest.json``).
    """
    started = time.perf_counter()
    recipe = load_recipe(recipe_name)
    dataset = build_dataset(recipe, Path(data_dir))
    train, valid = split(dataset, validation_fraction, seed)
    log.info("training on %d headlines, validating on %d", len(train), len(valid))
    params = {**DEFAULT_PARAMS, **(params or {})}
    classifier = HeadlineClassifier(**params).fit(train.texts, train.y, train.categories)
    p_valid = classifier.predict_proba(valid.texts)[:, 1]
    metrics = evaluate(valid.y, p_valid, classifier.threshold_, valid.corpus)
    report = dataset.report
    manifest = {
        "version": new_version_id(recipe.name),
        "recipe": {"name": recipe.name, "description": recipe.description,
                   "file": recipe.path.name},
        "params": classifier.get_params(),
        "sources": [asdict(f) for f in report.files],
        "data": {"rows": report.rows, "duplicates": report.duplicates,
                 "conflicts_resolved": report.conflicts_resolved,
                 "conflicts_dropped": report.conflicts_dropped,
                 "malformed": len(report.problems), "unique": len(dataset),
                 "train": len(train), "validation": len(valid),
                 "validation_fraction": validation_fraction, "seed": seed},
        "threshold": round(classifier.threshold_, 6),
        "validation": metrics,
        "training_seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    manifest = save_artifact(Path(out_dir), classifier, manifest)
    log.info("saved %s to %s: ROC-AUC %.4f, AP %.4f", manifest["version"], out_dir,
             metrics["roc_auc"], metrics["average_precision"])
    return manifest
