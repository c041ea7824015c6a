"""Train a model version from a recipe and write it as an artifact directory.

The recipe's policy files are the target and its category corpora the topic
prior (:class:`model.classifier.HeadlineClassifier`). Its evaluation files
are held out: the model is fitted without them (and without the category
validation split), measured on them, and only then, if the recipe says
``refit = true``, refitted on everything for the saved version. The manifest
keeps the held-out figures.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from joblib import parallel_config

from model.artifacts import new_version_id, save_artifact
from model.classifier import HeadlineClassifier
from training.corpora import Reads
from training.dataset import Dataset, DatasetReport, build_dataset, build_policy
from training.evaluation import evaluate
from training.recipes import Recipe, load_recipe
from training.splits import DEFAULT_SEED, DEFAULT_VALIDATION_FRACTION, split

log = logging.getLogger(__name__)

# The default model's hyper-parameters (see docs/model.md for how they were chosen).
DEFAULT_PARAMS: dict = {}


@dataclass
class TrainingData:
    """A recipe's data, split the way training and evaluation use it.

    ``policy``: policy-labelled headlines to train on; ``evaluation``: the
    held-out policy headlines; ``topics`` / ``topics_validation``: the
    category corpora's training and validation parts (``categories`` is
    ``corpus:category``). No headline is in two of them.
    """

    recipe: Recipe
    policy: Dataset
    evaluation: Dataset
    topics: Dataset
    topics_validation: Dataset

    def reports(self) -> dict[str, DatasetReport]:
        return {"categories": self.topics.report, "policy": self.policy.report,
                "evaluation": self.evaluation.report}

    def everything(self) -> tuple[Dataset, Dataset]:
        """(all policy headlines, all category headlines), for the refit."""
        return self.policy + self.evaluation, self.topics + self.topics_validation


def _empty(report: DatasetReport) -> Dataset:
    return Dataset([], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), report)


def load_training_data(recipe: Recipe, data_dir: Path, seed: int = DEFAULT_SEED,
                       fraction: float = DEFAULT_VALIDATION_FRACTION) -> TrainingData:
    """Read, normalise and de-duplicate the recipe's files and split them
    (each file read once, though label references point into the sources)."""
    reads: Reads = {}
    topics = (build_dataset(recipe, data_dir, reads) if recipe.sources
              else _empty(DatasetReport()))
    policy = build_policy(recipe.policy, data_dir, reads=reads)
    evaluation = build_policy(recipe.evaluation_policy, data_dir, reads=reads)
    held_out = set(evaluation.texts)
    policy, topics = policy.without(held_out), topics.without(held_out)
    if len(topics):
        topics, topics_validation = split(topics, fraction, seed, keep_in_train=set(policy.texts))
    else:
        topics_validation = topics
    log.info("%d policy headlines to train on, %d held out; %d category headlines, %d in the "
             "category validation split", len(policy), len(evaluation), len(topics),
             len(topics_validation))
    return TrainingData(recipe, policy, evaluation, topics, topics_validation)


def fit_classifier(policy: Dataset, topics: Dataset, params: dict | None = None,
                   sample_weight: np.ndarray | None = None) -> HeadlineClassifier:
    """A :class:`HeadlineClassifier` fitted on ``policy`` with ``topics`` as the
    topic prior. Without policy headlines (a recipe of category corpora only)
    the category labels themselves are the target and there is no prior."""
    classifier = HeadlineClassifier(**{**DEFAULT_PARAMS, **(params or {})})
    with parallel_config(n_jobs=fit_processes()):
        if not len(policy):
            return classifier.fit(topics.texts, topics.y, sample_weight=sample_weight)
        if not len(topics):
            return classifier.fit(policy.texts, policy.y, sample_weight=sample_weight)
        return classifier.fit(policy.texts, policy.y, topics.texts, topics.categories,
                              sample_weight=sample_weight)


def fit_processes() -> int:
    """Processes for the independent regressions of a fit: one per core."""
    return max(1, len(os.sched_getaffinity(0)))


def fit_with_labels(data: TrainingData, texts: list[str], y: np.ndarray,
                    params: dict | None = None, label_weight: float = 1.0
                    ) -> tuple[HeadlineClassifier, dict]:
    """A classifier fitted on all of ``data`` (as the refitted bundled model is)
    plus the labelled headlines ``texts`` (normalised) with labels ``y`` (1 =
    clickbait), each weighted ``label_weight``. A label overrides the recipe's
    label of the same headline. A recipe without policy files trains on its
    category labels plus the labels. Returns (classifier, row counts)."""
    policy, topics = data.everything()
    labelled = set(texts)
    policy, topics = policy.without(labelled), topics.without(labelled)
    labels = Dataset(list(texts), np.asarray(y, dtype=np.int64),
                     np.full(len(texts), "labels", dtype=object), policy.report)
    if len(policy):
        target, prior = policy + labels, topics
    else:
        target, prior = topics + labels, topics.subset(np.zeros(0, dtype=np.int64))
    weights = np.concatenate([np.ones(len(target) - len(labels)),
                              np.full(len(labels), float(label_weight))])
    counts = {"target": len(target) - len(labels), "labels": len(labels),
              "topic_prior": len(prior)}
    return fit_classifier(target, prior, params, sample_weight=weights), counts


def measure(classifier: HeadlineClassifier, data: TrainingData) -> dict:
    """Held-out figures: ``policy`` (the evaluation files, per part),
    ``categories`` (the category validation split, per corpus) and
    ``cross_fitted`` (out-of-fold predictions on the policy training rows)."""
    threshold = classifier.threshold_
    figures = {}
    if len(data.evaluation):
        figures["policy"] = evaluate(data.evaluation.y,
                                     classifier.predict_proba(data.evaluation.texts)[:, 1],
                                     threshold, data.evaluation.categories)
    if len(data.topics_validation):
        figures["categories"] = evaluate(
            data.topics_validation.y,
            classifier.predict_proba(data.topics_validation.texts)[:, 1], threshold,
            data.topics_validation.corpus)
    oof = classifier.oof_p_clickbait_
    training = data.policy if len(data.policy) == len(oof) else data.topics
    figures["cross_fitted"] = evaluate(training.y, oof, threshold)
    return figures


def train_recipe(recipe_name: str | Path, data_dir: Path, out_dir: Path,
                 params: dict | None = None, seed: int = DEFAULT_SEED,
                 validation_fraction: float = DEFAULT_VALIDATION_FRACTION) -> dict:
    """Fit on the recipe's training data, measure on its held-out data, refit
    on everything if the recipe says so, and save the version to ``out_dir``.

    Returns the manifest (also written to ``out_dir/manifest.json``).
    """
    started = time.perf_counter()
    recipe = load_recipe(recipe_name)
    data = load_training_data(recipe, Path(data_dir), seed, validation_fraction)
    classifier = fit_classifier(data.policy, data.topics, params)
    figures = measure(classifier, data)
    held_out_threshold = classifier.threshold_
    refit = recipe.refit and (len(data.evaluation) or len(data.topics_validation))
    if refit:
        del classifier  # measured: let its vocabularies go before the refit builds new ones
        policy, topics = data.everything()
        log.info("refitting on all %d policy and %d category headlines", len(policy), len(topics))
        classifier = fit_classifier(policy, topics, params)
    manifest = {
        "version": new_version_id(recipe.name),
        "recipe": {"name": recipe.name, "description": recipe.description,
                   "file": recipe.path.name},
        "params": classifier.get_params(),
        "sources": [asdict(f) for r in data.reports().values() for f in r.files],
        "data": {**{name: {"rows": r.rows, "duplicates": r.duplicates,
                           "conflicts_resolved": r.conflicts_resolved,
                           "conflicts_dropped": r.conflicts_dropped,
                           "malformed": len(r.problems)}
                    for name, r in data.reports().items()},
                 "policy_train": len(data.policy), "policy_held_out": len(data.evaluation),
                 "categories_train": len(data.topics),
                 "categories_validation": len(data.topics_validation),
                 "validation_fraction": validation_fraction, "seed": seed},
        "threshold": round(classifier.threshold_, 6),
        "threshold_rule": ("highest out-of-fold recall at precision >= "
                           f"{classifier.target_precision}"),
        # The held-out figures, measured before any refit (at that model's threshold).
        "validation": figures.get("policy") or figures.get("categories"),
        "held_out": {**figures, "threshold": round(held_out_threshold, 6)},
        "refit_on_held_out": bool(refit),
        "training_seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    manifest = save_artifact(Path(out_dir), classifier, manifest)
    log.info("saved %s to %s: held-out ROC-AUC %.4f, AP %.4f", manifest["version"], out_dir,
             manifest["validation"]["roc_auc"], manifest["validation"]["average_precision"])
    return manifest
