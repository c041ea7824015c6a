"""The registry: first start, hash-checked loads, atomic activation seen by every worker."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from model import BUNDLED_MODEL_DIR
from model.adaptation import adapt_to_labels
from model.artifacts import ArtifactError, new_version_id, read_manifest, save_artifact
from service.app import create_app
from service.stores.registry import ActiveChanged, Registry, RegistryError
from service.state import EXTENSION


def add_adapted(registry: Registry, bundled_model, headline="国务院召开常务会议部署经济工作",
                status="candidate") -> str:
    estimator = adapt_to_labels(bundled_model.classifier, [headline], [1])
    version = new_version_id("adapted")
    registry.add(estimator, {"version": version, "threshold": estimator.threshold_},
                 status=status, reason="test")
    return version


def test_first_start_registers_the_bundled_model(service_home, bundled_model):
    index = Registry(service_home / "models").ensure_initialized()
    assert index.active == bundled_model.version
    entry = index.versions[bundled_model.version]
    assert entry["status"] == "active" and entry["kind"] == "bundled"
    assert entry["sha256"] == read_manifest(BUNDLED_MODEL_DIR)["artifact_sha256"]
    copied = service_home / "models" / bundled_model.version / "model.joblib"
    assert copied.read_bytes() == (BUNDLED_MODEL_DIR / "model.joblib").read_bytes()
    # A second start changes nothing.
    assert Registry(service_home / "models").ensure_initialized().versions == index.versions


def test_activation_is_atomic_and_keeps_statuses(service_home, bundled_model):
    registry = Registry(service_home / "models")
    registry.ensure_initialized()
    version = add_adapted(registry, bundled_model)
    assert registry.read().active == bundled_model.version
    previous, index = registry.activate(version)
    assert previous == bundled_model.version and index.active == version
    assert index.versions[version]["status"] == "active"
    assert index.versions[previous]["status"] == "retired"
    assert json.loads((service_home / "models" / "registry.json").read_text())["active"] == version
    assert not list((service_home / "models").glob(".registry.json.*"))  # no temporary file left
    with pytest.raises(ActiveChanged):
        registry.activate(previous, expected_active="someone-else")
    with pytest.raises(RegistryError, match="GET /v1/models"):
        registry.activate("unknown")


def test_every_worker_switches_to_a_new_active_model(service_home, service_helpers,
                                                    bundled_model):
    settings = service_helpers.settings(service_home)
    worker_a, worker_b = create_app(settings), create_app(settings)  # two processes' apps
    token = worker_a.extensions[EXTENSION].tokens.create("ops")
    client_a, client_b = worker_a.test_client(), worker_b.test_client()
    headline = {"headline": "国务院召开常务会议部署经济工作"}
    assert client_b.post("/v1/score", json=headline).json["model"] == bundled_model.version

    version = add_adapted(worker_a.extensions[EXTENSION].registry, bundled_model)
    response = client_a.post(f"/v1/models/{version}/activate",
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["previous"] == bundled_model.version
    for client in (client_a, client_b):
        body = client.post("/v1/score", json=headline).json
        assert body["model"] == version and body["results"][0]["label"] == "clickbait"

    models = client_b.get("/v1/models").json
    assert models["active"] == version
    assert {m["version"]: m["status"] for m in models["models"]} == {
        bundled_model.version: "retired", version: "active"}


def test_a_tampered_artifact_is_never_loaded_nor_activated(service_home, service_helpers,
                                                          bundled_model):
    app = create_app(service_helpers.settings(service_home))
    state = app.extensions[EXTENSION]
    token = state.tokens.create("ops")
    client = app.test_client()
    assert client.post("/v1/score", json={"headline": "a"}).status_code == 200
    version = add_adapted(state.registry, bundled_model)
    with open(service_home / "models" / version / "model.joblib", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match="SHA-256"):
        state.registry.load(version)
    response = client.post(f"/v1/models/{version}/activate",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409 and response.json["error"]["code"] == "artifact_invalid"
    assert state.registry.read().active == bundled_model.version

    # Even if the index is flipped by hand, workers keep serving the verified model.
    state.registry.activate(version)
    body = client.post("/v1/score", json={"headline": "a"}).json
    assert body["model"] == bundled_model.version
    assert "SHA-256" in state.models.last_error


def test_a_directory_not_in_the_index_is_never_loaded(service_home, service_helpers,
                                                      bundled_model):
    app = create_app(service_helpers.settings(service_home))
    token = app.extensions[EXTENSION].tokens.create("ops")
    rogue = service_home / "models" / "rogue"
    save_artifact(rogue, bundled_model.classifier, {"version": "rogue"})  # valid manifest hash
    response = app.test_client().post("/v1/models/rogue/activate",
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    with pytest.raises(RegistryError):
        app.extensions[EXTENSION].registry.load("rogue")


def test_leftovers_of_interrupted_writes_are_removed_at_start(service_home, bundled_model):
    registry = Registry(service_home / "models")
    registry.ensure_initialized()
    dead = service_home / "models" / ".tmp-999999999-adapted-x"
    alive = service_home / "models" / f".tmp-{os.getpid()}-adapted-y"
    for path in (dead, alive):
        shutil.copytree(BUNDLED_MODEL_DIR, path)
    Registry(service_home / "models").ensure_initialized()
    assert not dead.exists() and alive.exists()  # a live writer's directory is left alone
    assert set(registry.read().versions) == {bundled_model.version}


def test_a_newly_installed_bundled_model_becomes_a_candidate(service_home, tmp_path,
                                                              bundled_model):
    registry = Registry(service_home / "models")
    registry.ensure_initialized()
    upgraded = tmp_path / "bundled-2"
    shutil.copytree(BUNDLED_MODEL_DIR, upgraded)
    manifest = json.loads((upgraded / "manifest.json").read_text(encoding="utf-8"))
    manifest["version"] = "default-upgraded"
    (upgraded / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    index = registry.ensure_initialized(bundled_dir=upgraded)
    assert index.active == bundled_model.version  # the operator's choice stays
    assert index.versions["default-upgraded"]["status"] == "candidate"
    assert registry.load("default-upgraded").version == "default-upgraded"


def test_retention_keeps_active_pinned_bundled_and_the_newest(tmp_path, bundled_model):
    """keep_versions=2: after six candidates, the bundled, a pinned one and the two
    newest remain; the deleted ones are gone from the index and the disk. All
    six are created in the same second (their time's resolution), as fast
    saves are: the order they were added decides, not their ids' random part."""
    from model.adaptation import adapt_to_labels

    registry = Registry(tmp_path / "models", keep_versions=2)
    registry.ensure_initialized()
    estimator = adapt_to_labels(bundled_model.classifier, ["国务院召开常务会议"], [1])
    versions = []
    for i in range(6):
        version = f"adapted-20261203T180532-{5 - i}"  # ids in the opposite order
        registry.add(estimator, {"version": version, "threshold": 0.5,
                                 "created": "2026-12-03T18:05:32+00:00"})
        versions.append(version)
        if i == 1:
            registry.pin(version)
    index = registry.read()
    kept = set(index.versions) - {index.active}
    assert kept == {versions[1], versions[4], versions[5]}
    assert sorted(p.name for p in (tmp_path / "models").iterdir() if p.is_dir()) == sorted(
        index.versions)


def test_an_orphaned_version_directory_is_removed_at_start(tmp_path, caplog):
    registry = Registry(tmp_path / "models")
    registry.ensure_initialized()
    orphan = tmp_path / "models" / "adapted-20260101T000000-abcdef"
    orphan.mkdir()
    (orphan / "model.joblib").write_bytes(b"half written")
    with caplog.at_level("WARNING"):
        Registry(tmp_path / "models").ensure_initialized()
    assert not orphan.exists()
    assert "does not list" in caplog.text


def test_a_rejected_version_cannot_be_activated(tmp_path, bundled_model):
    from model.adaptation import adapt_to_labels

    registry = Registry(tmp_path / "models")
    registry.ensure_initialized()
    estimator = adapt_to_labels(bundled_model.classifier, ["国务院召开常务会议"], [1])
    registry.add(estimator, {"version": "adapted-rejected", "threshold": 0.5},
                 status="rejected", reason="worse on the held-out labels")
    with pytest.raises(RegistryError, match="rejected by the quality gate"):
        registry.activate("adapted-rejected")
    assert registry.read().active != "adapted-rejected"
