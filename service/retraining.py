"""Run one retraining job: read the labels and the active model, let
:mod:`training.retraining` fit and judge a candidate, and register it.

The mode comes from the ``retrain_mode`` setting (``auto``: ``corpora`` when
every file the recipe reads directly is on disk, else ``labels``). A
promoted candidate becomes active at once; an ``undecided`` one (too few
held-out labels to judge) stays a candidate that an editor can activate by
hand; a rejected one stays in the registry with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from model.artifacts import new_version_id
from model.classifier import HeadlineClassifier
from model.scoring import Model
from service.config import Settings
from service.stores.labels import LabelStore
from service.stores.registry import ActiveChanged, open_registry
from training.evaluation import evaluate
from training.retraining import Labelled, fit_candidate, quality_gate, split_labels

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
Checkpoint = Callable[[str], None]
DISAGREEMENTS_SHOWN = 20


class RetrainError(Exception):
    """Retraining cannot run with the data at hand; the message says what to do."""


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


def _metrics(model: Model, data: Labelled, p: np.ndarray) -> dict:
    if not len(data):
        return {"n": 0, "clickbait": 0, "roc_auc": None, "average_precision": None,
                "accuracy": None}
    return evaluate(np.asarray(data.y), p, model.threshold)


def _disagreements(holdout: Labelled, p_candidate, p_active, threshold_candidate,
                   threshold_active) -> list[dict]:
    """Held-out headlines the two models label differently, the editor's label beside."""
    rows = []
    for text, y, pc, pa in zip(holdout.texts, holdout.y, p_candidate, p_active):
        if (pc >= threshold_candidate) != (pa >= threshold_active):
            rows.append({"headline": text, "label": ("clickbait" if y else "substantive"),
                         "p_candidate": round(float(pc), 4), "p_active": round(float(pa), 4)})
    return rows[:DISAGREEMENTS_SHOWN]


def _base(active: Model) -> HeadlineClassifier:
    if not isinstance(active.classifier, HeadlineClassifier):
        raise RetrainError(f"the active model {active.version} is not a headline classifier "
                           "this version can retrain; activate a newer one")
    return active.classifier


def retrain(settings: Settings, job_id: str, progress: Progress,
            checkpoint: Checkpoint | None = None) -> dict:
    """Run one retraining: fit, evaluate, register and maybe promote a candidate.

    Returns the job result (``version``, ``decision``, ``reason``,
    ``candidate_metrics``, ``active_metrics``, ``gate``, ``disagreements``
    ...). Raises :class:`RetrainError` when there is nothing to train on.
    ``checkpoint`` is called with each phase's name (``training``, then the
    registry's ``writing`` and ``promoting``, then ``promoted``) for
    fault-injection tests.
    """
    checkpoint = checkpoint or (lambda phase: None)
    started = time.perf_counter()
    registry = open_registry(settings, checkpoint=checkpoint)
    progress("loading the active model and the labels", 0.05)
    index = registry.read()
    active = registry.load(index.active, index)
    rows = LabelStore(settings.open_database()).current()
    if not rows:
        raise RetrainError("no labels yet: send some with POST /v1/labels, then retrain")
    train, holdout = split_labels(rows, settings.holdout_fraction)
    if not len(train):
        raise RetrainError("every labelled headline so far falls in the held-out slice used "
                           "to check candidates; send more labels, then retrain")
    mode = choose_mode(settings)
    log.info("job %s: %s mode, %d training labels, %d held out", job_id, mode, len(train),
             len(holdout))
    labels_info = {"total": len(rows), "train": len(train), "holdout": len(holdout)}
    checkpoint("training")
    progress(f"training ({mode} mode) on {len(train)} labels", 0.2)
    estimator, details = fit_candidate(mode, _base(active), train, settings.recipe,
                                       settings.resolved_data_dir(), settings.label_weight)
    if mode == "labels":  # the adapted model keeps its base's vocabulary
        details["base_version"] = active.manifest.get("base_version") or active.version

    progress("comparing with the active model on the held-out labels", 0.8)
    version = new_version_id(details["kind"])
    candidate = Model(estimator, {"version": version, "threshold": estimator.threshold_})
    p_candidate = candidate.predict_proba(holdout.texts) if len(holdout) else np.zeros(0)
    p_active = active.predict_proba(holdout.texts) if len(holdout) else np.zeros(0)
    gate = quality_gate(holdout.y, p_candidate, p_active, settings.promotion_tolerance)
    result = {"mode_used": mode, "version": version, "decision": gate.decision,
              "reason": gate.reason, "gate": gate.figures,
              "candidate_metrics": _metrics(candidate, holdout, p_candidate),
              "active_metrics": _metrics(active, holdout, p_active),
              "disagreements": _disagreements(holdout, p_candidate, p_active,
                                              candidate.threshold, active.threshold),
              "active_version": active.version, "labels": labels_info}

    progress("saving the candidate", 0.9)
    manifest = {"version": version, **details, "threshold": round(float(estimator.threshold_), 6),
                "labels": labels_info, "validation": result["candidate_metrics"],
                "evaluation": result, "job": job_id,
                "training_seconds": round(time.perf_counter() - started, 2)}
    status = "rejected" if gate.decision == "rejected" else "candidate"
    registry.add(estimator, manifest, status=status, reason=gate.reason, job=job_id,
                 kind=details["kind"])
    if gate.decision == "promoted":
        try:
            registry.activate(version, expected_active=active.version)
        except ActiveChanged as exc:
            reason = f"{exc}; the candidate was compared with the old one, retrain to compare again"
            registry.set_status(version, "rejected", reason)
            result.update(decision="rejected", reason=reason)
        else:
            checkpoint("promoted")
    log.info("job %s: %s %s (%s)", job_id, result["decision"], version, result["reason"])
    return result
