"""Model artifacts: a version is a directory with ``model.joblib`` and ``manifest.json``.

``model.joblib`` is a zlib stream, as ``joblib.dump(compress=3)`` writes:
of a plain pickle (protocol 5) for artifacts whose manifest says
``"artifact_format": "pickle"``, read by the C unpickler (a fifth of the
time of joblib's pure-Python one for the bundled model); of joblib's own
pickle, with numpy arrays inline, for artifacts written before (read with
``joblib.load``). ``joblib.load`` reads both.

An artifact is code: unpickling it can run anything. :func:`load_artifact`
therefore reads the file into memory, hashes those bytes and unpickles them
only if the SHA-256 equals the ``artifact_sha256`` recorded in the manifest
(and the registry's own record, when given), so the bytes checked are the
bytes loaded even if the file is swapped meanwhile.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import pickle
import platform
import shutil
import zlib
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import joblib

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
PICKLE_FORMAT = "pickle"  # the manifest's artifact_format of a plain pickle in zlib
COMPRESSION_LEVEL = 3  # zlib's; joblib.dump's compress=3
ROOM_KEPT_BYTES = 1 << 20  # left free by a model write, for the label and job stores
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib", "jieba", "rjieba", "opencc")


class ArtifactError(Exception):
    """A model directory is missing, incomplete, or fails its hash check."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def library_versions(names: tuple[str, ...] = _LIBRARIES) -> dict[str, str]:
    """Python's version and each of ``names``' installed version (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def new_version_id(prefix: str = "model") -> str:
    """A sortable, unique version id such as ``default-20261127T235959-3fa2c1``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}-{stamp}-{os.urandom(3).hex()}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _removed_on_failure(path: Path):
    """Delete the half-written ``path`` if the block fails (e.g. disk full)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def _check_room(directory: Path, size: int) -> None:
    """Refuse (ENOSPC) to write ``size`` bytes into ``directory`` unless
    :data:`ROOM_KEPT_BYTES` stay free afterwards: a model write must not
    fill the disk the label and job stores live on."""
    free = shutil.disk_usage(directory).free
    if free < size + ROOM_KEPT_BYTES:
        raise OSError(errno.ENOSPC, f"{size} bytes to write and {free} free (keeping "
                                    f"{ROOM_KEPT_BYTES} for the stores): no space left",
                      str(directory))


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with _removed_on_failure(tmp):
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def save_artifact(directory: Path, estimator, manifest: dict) -> dict:
    """Write ``estimator`` and its manifest into ``directory`` (created if needed).

    The manifest gets ``artifact_sha256``, ``created``, ``libraries`` and
    ``artifact_bytes`` added; the completed manifest is returned. Files are
    fsynced and the manifest is written last, so a directory without a
    manifest is an unfinished write.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / MODEL_FILE
    data = zlib.compress(pickle.dumps(estimator, protocol=5), COMPRESSION_LEVEL)
    _check_room(directory, len(data))
    _write_durably(model_path, data)
    manifest = dict(manifest)
    manifest.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    manifest["libraries"] = library_versions()
    manifest["artifact_format"] = PICKLE_FORMAT
    manifest["artifact_sha256"] = sha256_file(model_path)
    manifest["artifact_bytes"] = model_path.stat().st_size
    _write_durably(directory / MANIFEST_FILE,
                   json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    return manifest


def read_manifest(directory: Path, expected_sha256: str | None = None) -> dict:
    """The manifest of a model directory (JSON only: no code runs).

    ``expected_sha256`` (a registry's record of the manifest file) must match
    the file, so that an edited threshold or version is refused too.
    """
    path = Path(directory) / MANIFEST_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"{directory}: no {MANIFEST_FILE}; not a model directory "
                            "(train one with 'headline-sieve train')") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: unreadable manifest ({exc})") from exc
    if expected_sha256 is not None and sha256_bytes(data) != expected_sha256:
        raise ArtifactError(f"{path}: SHA-256 {sha256_bytes(data)[:12]}... does not match the "
                            f"registry ({expected_sha256[:12]}...); the manifest was edited, "
                            "refusing to load. Retrain it or restore the original file.")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise ArtifactError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifact_sha256"), str):
        raise ArtifactError(f"{path}: manifest has no artifact_sha256; refusing to load")
    return manifest


def read_artifact(directory: Path, expected_sha256: str | None = None,
                  expected_manifest_sha256: str | None = None) -> tuple[bytes, dict]:
    """``(joblib bytes, manifest)`` of a model directory, verified, nothing unpickled.

    The bytes' SHA-256 must equal the manifest's ``artifact_sha256`` and, when
    given, ``expected_sha256`` (a registry's own record); the manifest file
    must match ``expected_manifest_sha256`` when given. The file is read
    once: the bytes returned are the bytes hashed. For a process that loads
    the model elsewhere (a Dask worker, :func:`unpickle_artifact`).
    """
    directory = Path(directory)
    manifest = read_manifest(directory, expected_manifest_sha256)
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise ArtifactError(f"{directory}: no {MODEL_FILE}")
    data = model_path.read_bytes()
    actual = sha256_bytes(data)
    for expected, where in ((manifest["artifact_sha256"], "manifest"),
                            (expected_sha256, "registry")):
        if expected is not None and actual != expected:
            raise ArtifactError(
                f"{model_path}: SHA-256 {actual[:12]}... does not match the {where} "
                f"({expected[:12]}...); refusing to load a modified artifact. "
                "Retrain it or restore the original file.")
    return data, manifest


def unpickle_artifact(data: bytes, expected_sha256: str, source: str = MODEL_FILE,
                      artifact_format: str | None = None):
    """The estimator in ``data`` (the bytes of a ``model.joblib``), unpickled
    only if its SHA-256 is ``expected_sha256`` (bytes received from another
    process are re-checked before any of their code runs). ``artifact_format``
    is the manifest's (None: written by joblib). ``source`` names them in errors."""
    actual = sha256_bytes(data)
    if actual != expected_sha256:
        raise ArtifactError(f"{source}: SHA-256 {actual[:12]}... does not match the expected "
                            f"{expected_sha256[:12]}...; refusing to load a modified artifact")
    try:
        if artifact_format == PICKLE_FORMAT:
            return pickle.loads(zlib.decompress(data))
        return joblib.load(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - e.g. written by an incompatible version
        raise ArtifactError(f"{source}: cannot be unpickled ({exc.__class__.__name__}: "
                            f"{exc}); retrain it with this version") from exc


def load_artifact(directory: Path, expected_sha256: str | None = None,
                  expected_manifest_sha256: str | None = None):
    """Load ``(estimator, manifest)`` after verifying the joblib file's SHA-256.

    ``expected_sha256``, when given (a registry's own record), must match too,
    so that editing the manifest alongside the file is also caught; so must
    ``expected_manifest_sha256`` (the registry's record of the manifest). The
    file is read once: the bytes hashed are the bytes unpickled.
    """
    data, manifest = read_artifact(directory, expected_sha256, expected_manifest_sha256)
    estimator = unpickle_artifact(data, manifest["artifact_sha256"],
                                  str(Path(directory) / MODEL_FILE),
                                  manifest.get("artifact_format"))
    return estimator, manifest
