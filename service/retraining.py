"""Build a candidate model from the user labels, gate it, and register it.

Two cases, chosen by the ``retrain_mode`` setting (``auto`` picks one):

- ``corpora``: the recipe's corpora are on disk. A
  :class:`~model.classifier.HeadlineClassifier` with the active model's
  parameters is fitted the way the bundled model was (every policy and
  category headline of the recipe, held-out files included) plus the
  training labels, which override the recipe's label of the same normalised
  headline (:func:`training.train.fit_with_labels`).
- ``labels``: only the active model and the labels. The active model's
  base classifier stays frozen and a :class:`model.adaptation.LabelAdaptedClassifier`
  learns a local correction from the training labels.

In both cases the candidate ends with the label-correction layer fitted on
the training labels, so the labels change the answers for those headlines.

Quality gate: a fixed slice of the labelled headlines (chosen by a hash of
the normalised headline, :func:`is_holdout`) is never trained on. The
candidate is promoted only if its ROC-AUC and average precision there are
not lower than the active model's by more than the tolerance (accuracy when
the held-out set has one class only). Rejected candidates stay in the
registry with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from model.adaptation import LabelAdaptedClassifier, base_classifier
from model.artifacts import new_version_id
from model.classifier import HeadlineClassifier
from model.scoring import Model
from service.config import Settings
from service.labels import LABEL_VALUES, LabelStore
from service.registry import ActiveChanged, Registry
from training.evaluation import evaluate

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
Checkpoint = Callable[[str], None]


class RetrainError(Exception):
    """Retraining cannot run with the data at hand; the message says what to do."""


def is_holdout(normalized: str, fraction: float) -> bool:
    """True if the normalised headline belongs to the held-out slice.

    Decided by the SHA-256 of the text, so a headline stays on the same side
    across jobs and processes (Python's ``hash`` is salted per process).
    """
    bucket = int.from_bytes(hashlib.sha256(normalized.encode("utf-8")).digest()[:8], "big")
    return bucket / 2.0 ** 64 < fraction


@dataclass
class Labelled:
    """Normalised headlines ``texts``, targets ``y`` (1 = clickbait), ``group`` per row."""

    texts: list[str] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    group: list[str] = field(default_factory=list)

    def extend(self, texts, y, group: str) -> None:
        self.texts.extend(texts)
        self.y.extend(int(v) for v in y)
        self.group.extend([group] * len(texts))

    def __len__(self) -> int:
        return len(self.texts)


def split_labels(rows: list[dict], fraction: float) -> tuple[Labelled, Labelled]:
    """(training labels, held-out labels) from current label rows."""
    train, holdout = Labelled(), Labelled()
    for row in rows:
        part = holdout if is_holdout(row["normalized"], fraction) else train
        part.extend([row["normalized"]], [LABEL_VALUES.index(row["label"])], "labels")
    return train, holdout


def choose_mode(settings: Settings) -> str:
    """``corpora`` if the setting says so or (``auto``) every recipe file is present."""
    if settings.retrain_mode != "auto":
        return settings.retrain_mode
    from training.recipes import load_recipe

    data_dir = settings.resolved_data_dir()
    try:
        recipe = load_recipe(settings.recipe)
    except Exception as exc:  # noqa: BLE001 - a broken recipe means: no corpora
        log.warning("recipe %s unusable (%s); retraining from labels only", settings.recipe, exc)
        return "labels"
    present = all((data_dir / path).is_file() for path in recipe.files())
    return "corpora" if present else "labels"


def quality_gate(candidate: dict, active: dict, tolerance: float) -> tuple[str, str]:
    """(``promoted`` or ``rejected``, reason) from metrics on the same held-out set."""
    if candidate["n"] == 0:
        return "rejected", ("no held-out data to compare the models on: send more labels "
                            "(a fixed share of labelled headlines is held out) and retrain")
    keys = (("roc_auc", "average_precision") if candidate["roc_auc"] is not None
            else ("accuracy",))
    worse = [f"{key} {candidate[key]:.4f} < active {active[key]:.4f} - {tolerance}"
             for key in keys if candidate[key] < active[key] - tolerance]
    compared = ", ".join(f"{key} {active[key]:.4f} -> {candidate[key]:.4f}" for key in keys)
    if worse:
        return "rejected", (f"worse than the active model on {candidate['n']} held-out "
                            f"headlines by more than the tolerance: {'; '.join(worse)}")
    return "promoted", (f"not worse than the active model on {candidate['n']} held-out "
                        f"headlines within tolerance {tolerance} ({compared})")


def _metrics(model: Model, data: Labelled) -> dict:
    if not len(data):
        return {"n": 0, "clickbait": 0, "roc_auc": None, "average_precision": None,
                "accuracy": None}
    return evaluate(np.asarray(data.y), model.predict_proba(data.texts), model.threshold,
                    np.asarray(data.group, dtype=object))


def _adapt(base, train: Labelled):
    if not len(train):
        return base
    return LabelAdaptedClassifier(base).fit(train.texts, train.y)


def _fit_on_labels(active: Model, train: Labelled, progress: Progress) -> tuple[object, dict]:
    if not len(train):
        raise RetrainError("every labelled headline so far falls in the held-out slice used "
                           "to check candidates; send more labels, then retrain")
    progress("fitting the label correction", 0.3)
    estimator = _adapt(base_classifier(active.classifier), train)
    return estimator, {"kind": "adapted", "base_version": _base_version(active)}


def _fit_with_corpora(settings: Settings, active: Model, train: Labelled,
                      progress: Progress) -> tuple[object, dict]:
    from training.recipes import load_recipe
    from training.train import fit_with_labels, load_training_data

    progress("reading the corpora", 0.1)
    recipe = load_recipe(settings.recipe)
    data = load_training_data(recipe, settings.resolved_data_dir())
    base = base_classifier(active.classifier)
    params = base.get_params() if isinstance(base, HeadlineClassifier) else {}
    progress(f"training on the recipe and {len(train)} labels", 0.2)
    estimator, counts = fit_with_labels(data, train.texts, np.asarray(train.y), params)
    progress("fitting the label correction", 0.7)
    estimator = _adapt(estimator, train)
    details = {"kind": "retrained", "base_version": None,
               "recipe": {"name": recipe.name, "file": recipe.path.name},
               "params": base_classifier(estimator).get_params(), "data": counts}
    return estimator, details


def _base_version(active: Model) -> str:
    return active.manifest.get("base_version") or active.version


def _adaptation_params(estimator) -> dict | None:
    if not isinstance(estimator, LabelAdaptedClassifier):
        return None
    return {"C": estimator.C, "ngram_range": list(estimator.ngram_range),
            "similarity_power": estimator.similarity_power, "margin": estimator.margin}


def retrain(settings: Settings, job_id: str, progress: Progress,
            checkpoint: Checkpoint | None = None) -> dict:
    """Run one retraining: fit, evaluate, register and maybe promote a candidate.

    Returns the job result (``version``, ``decision``, ``reason``,
    ``candidate_metrics``, ``active_metrics``, ...). Raises
    :class:`RetrainError` when there is nothing to train on. ``checkpoint`` is
    called with each phase's name (``training``, then the registry's
    ``writing`` and ``promoting``, then ``promoted``) for fault-injection tests.
    """
    checkpoint = checkpoint or (lambda phase: None)
    started = time.perf_counter()
    registry = Registry(settings.home, checkpoint=checkpoint)
    progress("loading the active model and the labels", 0.05)
    index = registry.read()
    active = registry.load(index.active, index)
    rows = LabelStore(settings.home).current()
    if not rows:
        raise RetrainError("no labels yet: send some with POST /v1/labels, then retrain")
    train, holdout = split_labels(rows, settings.holdout_fraction)
    mode = choose_mode(settings)
    log.info("job %s: %s mode, %d training labels, %d held out", job_id, mode, len(train),
             len(holdout))
    labels_info = {"total": len(rows), "train": len(train), "holdout": len(holdout)}
    checkpoint("training")
    if mode == "corpora":
        estimator, details = _fit_with_corpora(settings, active, train, progress)
    else:
        estimator, details = _fit_on_labels(active, train, progress)

    progress("evaluating on the held-out set", 0.8)
    version = new_version_id(details["kind"])
    candidate = Model(estimator, {"version": version, "threshold": estimator.threshold_})
    candidate_metrics, active_metrics = _metrics(candidate, holdout), _metrics(active, holdout)
    decision, reason = quality_gate(candidate_metrics, active_metrics,
                                    settings.promotion_tolerance)
    result = {"mode_used": mode, "version": version, "decision": decision, "reason": reason,
              "candidate_metrics": candidate_metrics, "active_metrics": active_metrics,
              "active_version": active.version, "labels": labels_info}

    progress("saving the candidate", 0.9)
    manifest = {"version": version, **details, "threshold": round(float(estimator.threshold_), 6),
                "adaptation": _adaptation_params(estimator), "labels": labels_info,
                "validation": candidate_metrics, "evaluation": result, "job": job_id,
                "training_seconds": round(time.perf_counter() - started, 2)}
    status = "candidate" if decision == "promoted" else "rejected"
    registry.add(estimator, manifest, status=status, reason=reason, job=job_id,
                 kind=details["kind"])
    if decision == "promoted":
        try:
            registry.activate(version, expected_active=active.version)
        except ActiveChanged as exc:
            reason = f"{exc}; the candidate was compared with the old one, retrain to compare again"
            registry.set_status(version, "rejected", reason)
            result.update(decision="rejected", reason=reason)
        else:
            checkpoint("promoted")
    log.info("job %s: %s %s (%s)", job_id, decision, version, reason)
    return result
