"""``GET /v1/models`` lists the registry; ``POST /v1/models/<version>/activate``
rolls back or forward."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from model.artifacts import ArtifactError
from service.schemas import Activated, ModelsList, Pinned
from service.state import get_state
from service.stores.registry import RegistryError
from service.views.auth import token_required
from service.views.errors import ApiError
from service.views.spec import endpoint

log = logging.getLogger(__name__)
bp = Blueprint("models", __name__)

_SUMMARY_KEYS = ("kind", "base_version", "threshold", "job", "training_seconds")
_METRIC_KEYS = ("n", "roc_auc", "average_precision", "f1", "accuracy")


def _summary(registry, version: str, entry: dict, active: str) -> dict:
    summary = {"version": version, "status": entry["status"], "active": version == active,
               "pinned": bool(entry.get("pinned")), "created": entry.get("created"),
               "reason": entry.get("reason", ""), "sha256": entry["sha256"]}
    try:
        manifest = registry.manifest(version)
    except (ArtifactError, RegistryError) as exc:
        summary["problem"] = str(exc)
        return summary
    summary.update({key: manifest[key] for key in _SUMMARY_KEYS if key in manifest})
    summary.setdefault("kind", entry.get("kind", "trained"))
    validation = manifest.get("validation") or {}
    summary["validation"] = {key: validation.get(key) for key in _METRIC_KEYS}
    return summary


@bp.get("/v1/models")
@endpoint("Every model version", operation_id="listModels", responses={200: ModelsList})
def list_models():
    """Every version, oldest first, with its status and manifest summary."""
    registry = get_state().registry
    index = registry.read()
    models = [_summary(registry, version, entry, index.active)
              for version, entry in sorted(index.versions.items(),
                                           key=lambda item: (item[1].get("created", ""), item[0]))]
    return jsonify({"active": index.active, "models": models})


@bp.post("/v1/models/<version>/activate")
@token_required
@endpoint("Activate a version (roll back or forward)", operation_id="activateModel",
          responses={200: Activated},
          errors={404: None, 409: "Rejected by the gate, or the artifact cannot be loaded",
                  503: None, 507: None})
def activate(version: str):
    """Make ``version`` active in every worker; it is loaded and verified first."""
    state = get_state()
    index = state.registry.read()
    if version not in index.versions:
        raise ApiError(404, "not_found", f"no model version {version!r}; GET /v1/models lists "
                                         "the known versions")
    if index.versions[version]["status"] == "rejected":
        raise ApiError(409, "version_rejected", f"model {version} was rejected by the quality "
                       f"gate ({index.versions[version].get('reason', '')}); it cannot be "
                       "activated: send more labels and retrain")
    serving = state.models.loaded
    try:
        if serving is not None and serving.version == version:
            state.registry.verify(version, index)  # its files; it is in memory already
            model = serving
        else:
            model = state.registry.load(version, index)
    except (ArtifactError, OSError) as exc:
        log.error("refusing to activate %s: %s", version, exc)
        raise ApiError(409, "artifact_invalid", f"model {version} cannot be loaded, so it was "
                       f"not activated: {exc}") from None
    try:
        previous, _ = state.registry.activate(version)
    except RegistryError as exc:
        raise ApiError(409, "version_rejected", str(exc)) from None
    if model is not serving:
        state.models.install(model)
    log.info("model %s activated (was %s)", version, previous)
    return jsonify({"active": version, "previous": previous})


@bp.post("/v1/models/<version>/pin")
@token_required
@endpoint("Keep a version whatever the retention", operation_id="pinModel",
          responses={200: Pinned}, errors=(404,))
def pin(version: str):
    """Keep ``version`` whatever the retention (``keep_versions``)."""
    return _pin(version, True)


@bp.delete("/v1/models/<version>/pin")
@token_required
@endpoint("Let the retention delete a version", operation_id="unpinModel",
          responses={200: Pinned}, errors=(404,))
def unpin(version: str):
    """Let the retention delete ``version`` when it gets old."""
    return _pin(version, False)


def _pin(version: str, pinned: bool):
    try:
        get_state().registry.pin(version, pinned)
    except RegistryError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return jsonify({"version": version, "pinned": pinned})

