"""Artifacts are loaded only after their SHA-256 matches; tampering is refused."""

from __future__ import annotations

import json
import pickle
import shutil
import zlib

import joblib
import numpy as np
import pytest

from model import ArtifactError, load_model
from model.artifacts import MANIFEST_FILE, MODEL_FILE, load_artifact, save_artifact
from model.scoring import BUNDLED_MODEL_DIR


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "m"
    shutil.copytree(BUNDLED_MODEL_DIR, target)
    return target


def test_bundled_model_loads_and_is_small():
    model = load_model()
    assert model.version.startswith("default-")
    assert (BUNDLED_MODEL_DIR / MODEL_FILE).stat().st_size < 15 * 2**20


def test_flipped_byte_is_refused(model_copy):
    path = model_copy / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="does not match the manifest"):
        load_model(model_copy)


def test_truncated_file_is_refused(model_copy):
    path = model_copy / MODEL_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ArtifactError, match="refusing"):
        load_model(model_copy)


def test_manifest_without_hash_or_missing_is_refused(model_copy):
    manifest = json.loads((model_copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    del manifest["artifact_sha256"]
    (model_copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ArtifactError, match="no artifact_sha256"):
        load_model(model_copy)
    (model_copy / MANIFEST_FILE).unlink()
    with pytest.raises(ArtifactError, match="not a model directory"):
        load_model(model_copy)


class _Exploit:
    """Unpickling this would create a file: proof that the pickle ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_malicious_pickle_with_edited_manifest_is_not_executed(tmp_path, model_copy):
    marker = tmp_path / "pwned"
    (model_copy / MODEL_FILE).write_bytes(pickle.dumps(_Exploit(marker)))
    # The manifest still names the original hash: refused before unpickling.
    with pytest.raises(ArtifactError):
        load_model(model_copy)
    # Even a manifest edited to match is refused when the caller (a registry)
    # knows the hash it recorded.
    original = json.loads((BUNDLED_MODEL_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
    from model.artifacts import sha256_file
    edited = dict(original, artifact_sha256=sha256_file(model_copy / MODEL_FILE))
    (model_copy / MANIFEST_FILE).write_text(json.dumps(edited), encoding="utf-8")
    with pytest.raises(ArtifactError, match="registry"):
        load_artifact(model_copy, expected_sha256=original["artifact_sha256"])
    assert not marker.exists()


def test_save_then_load_round_trip(tmp_path):
    manifest = save_artifact(tmp_path / "v", {"weights": [1, 2, 3]}, {"version": "t-1"})
    estimator, loaded = load_artifact(tmp_path / "v", expected_sha256=manifest["artifact_sha256"])
    assert estimator == {"weights": [1, 2, 3]}
    assert loaded["version"] == "t-1" and "scikit-learn" in loaded["libraries"]
    assert not list((tmp_path / "v").glob("*.tmp"))


def test_an_artifact_written_by_joblib_still_loads_and_scores_the_same(tmp_path, model_copy):
    """Versions saved before artifact_format existed (joblib.dump's own pickle,
    arrays inline) stay loadable; every artifact stays readable by joblib.load."""
    from model.artifacts import sha256_file

    headlines = ["女星深夜现身酒店，网友炸了", "国务院常务会议部署稳就业工作"]
    current = load_model(model_copy)
    assert current.manifest["artifact_format"] == "pickle"
    estimator = joblib.load(model_copy / MODEL_FILE)  # the new format, read by joblib
    joblib.dump(estimator, model_copy / MODEL_FILE, compress=3)
    manifest = json.loads((model_copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    del manifest["artifact_format"]
    manifest["artifact_sha256"] = sha256_file(model_copy / MODEL_FILE)
    (model_copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(pickle.UnpicklingError):  # not a plain pickle: joblib's path is needed
        pickle.loads(zlib.decompress((model_copy / MODEL_FILE).read_bytes()))
    old = load_model(model_copy)
    np.testing.assert_array_equal(old.predict_proba(headlines), current.predict_proba(headlines))
