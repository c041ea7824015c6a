"""Corrupt, tampered and planted model files against the real server.

A truncated joblib file, a flipped byte, an edited manifest: each is refused at
load with a clear log line, activating it over HTTP answers 409 with the
reason, and the previous good model keeps serving. A malicious pickle planted
anywhere under the home directory (its own directory with a self-consistent
manifest, in place of a listed version's file, in place of the active one's, in
a temporary directory) is never unpickled: the marker file its payload would
create never appears.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import joblib
import requests

from helpers import auth
from model.adaptation import adapt_to_labels
from model.artifacts import MANIFEST_FILE, MODEL_FILE, new_version_id, sha256_file
from service.stores.registry import Registry

HEADLINES = ["国务院召开常务会议部署经济工作", "震惊！这位女星竟然说出了真相"]


class Payload:
    """Unpickling this runs ``exec`` of ``code``: what a hostile joblib file does."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return exec, (self.code,)


def plant_pickle(path: Path, marker: Path) -> str:
    """Write a joblib file at ``path`` whose loading creates ``marker``; its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(Payload(f"open({str(marker)!r}, 'w').write('pwned')"), path, compress=3)
    return sha256_file(path)


def add_candidates(home: Path, bundled_model, n: int) -> list[str]:
    """``n`` genuine candidate versions (label-adapted copies of the bundled model)."""
    registry = Registry(home / "models")
    registry.ensure_initialized()
    estimator = adapt_to_labels(bundled_model.classifier, [HEADLINES[0]], [1])
    versions = []
    for _ in range(n):
        version = new_version_id("adapted")
        registry.add(estimator, {"version": version, "threshold": estimator.threshold_},
                     reason="test candidate")
        versions.append(version)
    return versions


def truncate(directory: Path) -> None:
    path = directory / MODEL_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_byte(directory: Path) -> None:
    path = directory / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def edit_manifest(directory: Path) -> None:
    """Lower the threshold so that every headline is labelled clickbait."""
    path = directory / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["threshold"] = 0.001
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def scored_model(base: str) -> str:
    response = requests.post(f"{base}/v1/score", json={"headlines": HEADLINES}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["model"]


def test_corrupt_artifacts_are_refused_and_the_good_model_keeps_serving(
        tmp_path, service_helpers, bundled_model, figures):
    home = tmp_path / "home"
    truncated, flipped, edited = add_candidates(home, bundled_model, 3)
    token = service_helpers.create_token(home)
    damage = {truncated: truncate, flipped: flip_byte, edited: edit_manifest}
    refused, scored = 0, 0
    with service_helpers.server_process(home) as server:
        index_before = (home / "models" / "registry.json").read_bytes()
        for version, corrupt in damage.items():
            corrupt(home / "models" / version)
            response = requests.post(f"{server.base}/v1/models/{version}/activate",
                                     headers=auth(token), timeout=30)
            assert response.status_code == 409, response.text
            error = response.json()["error"]
            assert error["code"] == "artifact_invalid" and "SHA-256" in error["message"]
            assert "was edited" in error["message"] if corrupt is edit_manifest else True
            refused += 1
            for _ in range(4):  # both workers
                assert scored_model(server.base) == bundled_model.version
                scored += 1
        assert (home / "models" / "registry.json").read_bytes() == index_before
        listing = requests.get(f"{server.base}/v1/models", timeout=10).json()
        problems = {m["version"]: m.get("problem", "") for m in listing["models"]}
        assert "was edited" in problems[edited]  # the listing flags the edited manifest

        # The index flipped by hand (not over HTTP) to a corrupt version: every
        # worker refuses to load it, says why, and keeps the good model.
        Registry(home / "models").activate(flipped)
        for _ in range(6):
            assert scored_model(server.base) == bundled_model.version
            scored += 1
        health = requests.get(f"{server.base}/healthz", timeout=10).json()
        assert health == {"status": "ok", "model": flipped,
                          "loaded_model": bundled_model.version}
        assert requests.get(f"{server.base}/readyz", timeout=10).status_code == 200
        back = requests.post(f"{server.base}/v1/models/{bundled_model.version}/activate",
                             headers=auth(token), timeout=30)
        assert back.status_code == 200
        log = server.log_text()
    for version in damage:
        assert f"refusing to activate {version}" in log
    assert f"cannot load model {flipped}" in log and "keeping the previous model" in log
    figures(corrupt_artifacts=len(damage) + 1, refused=refused + 1,
            scoring_requests_meanwhile=scored, scoring_failures=0)


def test_a_planted_pickle_is_never_unpickled(tmp_path, service_helpers, bundled_model,
                                            figures):
    home = tmp_path / "home"
    [candidate] = add_candidates(home, bundled_model, 1)
    token = service_helpers.create_token(home)
    marker = tmp_path / "PWNED"
    models = home / "models"

    # The payload is live: loaded directly (in another process), it runs.
    probe = tmp_path / "probe" / MODEL_FILE
    plant_pickle(probe, marker)
    subprocess.run([sys.executable, "-c", f"import joblib; joblib.load({str(probe)!r})"],
                   check=True)
    assert marker.exists()
    marker.unlink()

    attempts = 0
    with service_helpers.server_process(home) as server:
        # 1. Its own directory with a self-consistent manifest, not in the index.
        rogue = models / "rogue"
        sha = plant_pickle(rogue / MODEL_FILE, marker)
        (rogue / MANIFEST_FILE).write_text(json.dumps(
            {"version": "rogue", "threshold": 0.5, "artifact_sha256": sha}), encoding="utf-8")
        for name in ("rogue", "..", "%2E%2E", "models%2Frogue", "..%2Fmodels%2Frogue"):
            response = requests.post(f"{server.base}/v1/models/{name}/activate",
                                     headers=auth(token), timeout=30)
            assert response.status_code == 404, (name, response.text)
            attempts += 1
        # 2. In place of a listed candidate's file, its manifest rewritten to match.
        sha = plant_pickle(models / candidate / MODEL_FILE, marker)
        manifest = json.loads((models / candidate / MANIFEST_FILE).read_text(encoding="utf-8"))
        manifest["artifact_sha256"] = sha
        (models / candidate / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
        # 3. In place of the active version's file (checked again when re-activated).
        plant_pickle(models / bundled_model.version / MODEL_FILE, marker)
        for version in (candidate, bundled_model.version):
            response = requests.post(f"{server.base}/v1/models/{version}/activate",
                                     headers=auth(token), timeout=30)
            assert response.status_code == 409, response.text
            assert "SHA-256" in response.json()["error"]["message"]
            attempts += 1
        assert scored_model(server.base) == bundled_model.version  # from memory
        # 4. In a temporary directory left by a dead writer.
        leftover = models / ".tmp-999999999-evil"
        plant_pickle(leftover / MODEL_FILE, marker)

    with service_helpers.server_process(home, workers=1, wait=False) as server:
        server.wait_started()
        attempts += 1
        assert not leftover.exists()  # removed at start, never loaded
        assert requests.get(f"{server.base}/readyz", timeout=10).status_code == 503
        assert requests.post(f"{server.base}/v1/score", json={"headline": "x"},
                             timeout=10).status_code == 503  # no model rather than that one
        log = server.log_text()
    assert f"cannot load model {bundled_model.version}" in log and "SHA-256" in log
    assert not marker.exists()
    figures(planted_pickles=4, load_attempts=attempts, executed=0)
