"""The model registry: every model version the service knows, and which one is active.

Layout of the registry directory (the ``registry`` setting, default
``home/models``; several instances may share one, on a network filesystem)::

    <version>/model.joblib, manifest.json   one directory per version
    registry.json                            the index (below)
    registry.lock                            flock for writers (every instance)

``registry.json`` records, for each version, the SHA-256 of its joblib file
and of its manifest (versions registered before the manifest hash was kept
have only the first), its status (``active``, ``candidate``, ``rejected`` or ``retired``), when
and why it got there, whether it is ``pinned``, and the ``active`` pointer.
Retention: after each new version and each activation, only the active, the
pinned, the bundled and the newest ``keep_versions`` other versions are kept;
a rejected version can never be activated. It is rewritten as a
whole with ``os.replace`` after an fsync, so the pointer flips atomically:
a reader sees the old index or the new one. A joblib file is only ever
loaded if the index lists it, with the hash check of
:func:`model.artifacts.load_artifact`.

A new version is written into ``.tmp-<pid>-<version>@<host>``, fsynced and
renamed into place before the index names it, so a crash at any point
leaves the index and the active model as they were (and at worst a stray
directory that is never loaded). Temporary files and directories of dead
writers (on this host: their pid is gone; on another: a day old), and
version directories the index does not list, are removed at the next
start, with a log line.

Every instance reads the ``active`` pointer from ``registry.json`` itself
(:meth:`Registry.stamp` is one ``stat`` per request), so a promotion or a
rollback made on any instance is served by all of them at their next
request.

A ``checkpoint`` callable, if given, is called with the name of each phase of
a write (``writing``: the artifact is complete in its temporary directory;
``promoting``: the new index is durable beside ``registry.json``, not yet
renamed over it). Only the retraining process passes one, to stop itself
there in fault-injection tests (see :mod:`service.retrain_worker`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from model.artifacts import (MANIFEST_FILE, MODEL_FILE, ArtifactError, load_artifact,
                             read_artifact, read_manifest, save_artifact, sha256_file)
from model.scoring import BUNDLED_MODEL_DIR, Model
from service.stores.storage import (file_lock, fsync_dir, pid_alive, storage_problem, utc_now,
                                    write_atomically)

log = logging.getLogger(__name__)

INDEX_FILE = "registry.json"
LOCK_FILE = "registry.lock"
MODELS_DIR = "models"
STATUSES = ("active", "candidate", "rejected", "retired")
_TMP_PREFIX = ".tmp-"
DEFAULT_KEEP_VERSIONS = 5
FOREIGN_TEMPORARY_SECONDS = 86400.0  # another host's unfinished write is abandoned after this


class RegistryError(Exception):
    """The registry has no such version, or its state forbids the operation."""


class ActiveChanged(RegistryError):
    """A compare-and-swap activation found another active version."""


@dataclass(frozen=True)
class Index:
    """One consistent reading of ``registry.json``.

    ``stamp`` identifies the file that was read (inode, mtime, size): equal
    stamps mean the same index, so workers can detect a change with a stat.
    """

    active: str
    versions: dict[str, dict] = field(default_factory=dict)
    stamp: tuple = ()

    def entry(self, version: str) -> dict:
        try:
            return self.versions[version]
        except KeyError:
            raise RegistryError(f"no model version {version!r}; GET /v1/models lists "
                                "the known versions") from None


class Registry:
    """Versions under the directory ``root`` and the index that names them."""

    def __init__(self, root: Path, checkpoint: Callable[[str], None] | None = None,
                 keep_versions: int = DEFAULT_KEEP_VERSIONS):
        self.keep_versions = keep_versions
        self.root = Path(root)
        self.index_path = self.root / INDEX_FILE
        self.lock_path = self.root / LOCK_FILE
        self._checkpoint = checkpoint or (lambda phase: None)

    # -- reading -----------------------------------------------------------

    def stamp(self) -> tuple | None:
        """A cheap identity of the current index file (one stat), None if absent."""
        try:
            info = os.stat(self.index_path)
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def read(self) -> Index:
        """The index as one consistent snapshot."""
        try:
            with open(self.index_path, "rb") as handle:
                info = os.fstat(handle.fileno())
                data = json.loads(handle.read().decode("utf-8"))
        except FileNotFoundError:
            raise RegistryError(f"{self.index_path}: no registry yet; start the service "
                                "once (headline-sieve serve) to create it") from None
        return Index(data["active"], data["versions"],
                     (info.st_ino, info.st_mtime_ns, info.st_size))

    def path(self, version: str) -> Path:
        return self.root / version

    def load(self, version: str, index: Index | None = None) -> Model:
        """Load ``version`` after checking its joblib file and manifest against the
        index's SHA-256s (a file the index does not list is never unpickled)."""
        entry = (index or self.read()).entry(version)
        estimator, manifest = load_artifact(self.path(version), expected_sha256=entry["sha256"],
                                            expected_manifest_sha256=entry.get("manifest_sha256"))
        return Model(estimator, manifest).warm()

    def verify(self, version: str, index: Index | None = None) -> None:
        """Check ``version``'s files on disk as :meth:`load` does, without
        unpickling (for a version already loaded: is what a restart would
        load still the same?). Raises :class:`ArtifactError` if not."""
        entry = (index or self.read()).entry(version)
        read_artifact(self.path(version), expected_sha256=entry["sha256"],
                      expected_manifest_sha256=entry.get("manifest_sha256"))

    def manifest(self, version: str) -> dict:
        """The manifest of a listed version, checked against the index (metadata only;
        no joblib is loaded)."""
        entry = self.read().entry(version)
        return read_manifest(self.path(version), entry.get("manifest_sha256"))

    # -- writing -----------------------------------------------------------

    def ensure_initialized(self, bundled_dir: Path = BUNDLED_MODEL_DIR) -> Index:
        """Create the registry with the bundled model as the active version, if
        there is none yet; remove temporary directories of dead writers.

        A bundled model the registry does not know yet (the package was
        upgraded) is added as a candidate: the operator's active choice stays.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with file_lock(self.lock_path):
            self._remove_stale_temporaries()
            if self.index_path.exists():
                self._remove_orphans()
            if not self.index_path.exists():
                version = self._import_bundled(Path(bundled_dir), activate=True)
                log.info("registry created in %s with the bundled model %s", self.root, version)
            elif read_manifest(bundled_dir)["version"] not in self._read_raw()["versions"]:
                version = self._import_bundled(Path(bundled_dir), activate=False)
                log.warning("the installed bundled model %s is new to this registry; it is a "
                            "candidate, the active model is unchanged (POST "
                            "/v1/models/%s/activate to use it)", version, version)
        return self.read()

    def add(self, estimator, manifest: dict, status: str = "candidate",
            reason: str = "", **details) -> dict:
        """Save a new version (status ``candidate`` or ``rejected``) and list it.

        Returns the completed manifest. ``details`` (e.g. ``job``) are kept in
        the index entry. The version is not active until :meth:`activate`.
        """
        if status not in ("candidate", "rejected"):
            raise ValueError("a new version is a candidate or rejected")
        version = manifest["version"]
        final = self.path(version)
        if final.exists():
            raise RegistryError(f"model version {version} exists already")
        tmp = self._temporary_dir(version)
        try:
            manifest = save_artifact(tmp, estimator, manifest)
            fsync_dir(tmp)
            self._checkpoint("writing")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        with file_lock(self.lock_path):  # moved in and indexed under one lock
            os.rename(tmp, final)
            fsync_dir(self.root)
            data = self._read_raw()
            data["versions"][version] = {
                "sha256": manifest["artifact_sha256"],
                "manifest_sha256": sha256_file(final / MANIFEST_FILE), "status": status,
                "reason": reason, "created": manifest["created"], "status_changed": utc_now(),
                **details}
            self._write_raw(data)
            self._prune(data)
        return manifest

    def activate(self, version: str, expected_active: str | None = None) -> tuple[str, Index]:
        """Make ``version`` the active model; return (previous active, new index).

        The previous active version becomes ``retired``. With
        ``expected_active``, raise :class:`ActiveChanged` instead if the active
        version is another one by now. Callers should have loaded ``version``
        once (see :meth:`load`) to be sure it loads.
        """
        with file_lock(self.lock_path):
            data = self._read_raw()
            if version not in data["versions"]:
                raise RegistryError(f"no model version {version!r}; GET /v1/models lists "
                                    "the known versions")
            previous = data["active"]
            if expected_active is not None and previous != expected_active:
                raise ActiveChanged(f"the active model changed from {expected_active} to "
                                    f"{previous} meanwhile")
            if data["versions"][version]["status"] == "rejected":
                raise RegistryError(f"{version} was rejected by the quality gate "
                                    f"({data['versions'][version].get('reason', '')}); it "
                                    "cannot be activated: retrain with more labels instead")
            if previous != version:
                data["versions"][previous].update(status="retired", status_changed=utc_now())
                data["versions"][version].update(status="active", status_changed=utc_now())
                data["active"] = version
                self._write_raw(data, before_replace=lambda: self._checkpoint("promoting"))
                self._prune(data)
        return previous, self.read()

    def pin(self, version: str, pinned: bool = True) -> None:
        """Keep ``version`` whatever the retention (``pinned=False`` releases it)."""
        with file_lock(self.lock_path):
            data = self._read_raw()
            if version not in data["versions"]:
                raise RegistryError(f"no model version {version!r}; GET /v1/models lists "
                                    "the known versions")
            data["versions"][version]["pinned"] = bool(pinned)
            self._write_raw(data)

    def set_status(self, version: str, status: str, reason: str) -> None:
        """Mark a version that is not active as ``candidate``, ``rejected`` or ``retired``."""
        if status not in STATUSES or status == "active":
            raise ValueError(f"use activate() to make a version active; got {status!r}")
        with file_lock(self.lock_path):
            data = self._read_raw()
            if version not in data["versions"]:
                raise RegistryError(f"no model version {version!r}")
            if data["active"] == version:
                raise RegistryError(f"{version} is active; activate another version first")
            data["versions"][version].update(status=status, reason=reason,
                                             status_changed=utc_now())
            self._write_raw(data)

    def check_writable(self) -> None:
        """Raise :class:`RegistryError` (one clear line) unless this process can
        create files in the registry directory (creating it if need be)."""
        probe = self.root / f".write-test-{os.getpid()}@{socket.gethostname()}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise RegistryError(f"the model registry {self.root} cannot be written "
                                f"({exc.strerror or exc}); point registry (--registry, "
                                "HEADLINE_SIEVE_REGISTRY) at a writable directory") from None

    # -- helpers -----------------------------------------------------------

    def _temporary_dir(self, version: str) -> Path:
        return self.root / f"{_TMP_PREFIX}{os.getpid()}-{version}@{socket.gethostname()}"

    def _read_raw(self) -> dict:
        return json.loads(self.index_path.read_text(encoding="utf-8"))

    def _write_raw(self, data: dict, before_replace: Callable[[], None] | None = None) -> None:
        write_atomically(self.index_path,
                         json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
                         before_replace)

    def _import_bundled(self, bundled_dir: Path, activate: bool) -> str:
        manifest = read_manifest(bundled_dir)
        version = manifest["version"]
        sha = sha256_file(bundled_dir / MODEL_FILE)
        if sha != manifest["artifact_sha256"]:
            raise ArtifactError(f"{bundled_dir}: the bundled model fails its SHA-256 check; "
                                "reinstall headline-sieve or rebuild it with 'make model'")
        final = self.path(version)
        if not final.exists():
            tmp = self._temporary_dir(version)
            tmp.mkdir()
            for name in (MODEL_FILE, MANIFEST_FILE):
                shutil.copyfile(bundled_dir / name, tmp / name)
                with open(tmp / name, "rb") as handle:
                    os.fsync(handle.fileno())
            fsync_dir(tmp)
            os.rename(tmp, final)
            fsync_dir(self.root)
        entry = {"sha256": sha, "manifest_sha256": sha256_file(final / MANIFEST_FILE),
                 "status": "active" if activate else "candidate",
                 "reason": "bundled default model", "created": manifest.get("created", utc_now()),
                 "status_changed": utc_now(), "kind": "bundled"}
        if activate:
            data = {"format": 1, "active": version, "versions": {}}
        else:
            data = self._read_raw()
        data["versions"][version] = entry
        self._write_raw(data)
        return version

    def _prune(self, data: dict) -> None:
        """Retention (under the lock): keep the active, the pinned and the bundled
        versions and the newest :attr:`keep_versions` others; drop the rest
        from the index, then delete their directories."""
        protected = {data["active"]} | {
            v for v, e in data["versions"].items() if e.get("pinned") or e.get("kind") == "bundled"}
        # Newest first: by creation time (to the second), then by the order the
        # versions were added (the index keeps it), not by their random suffix.
        added = {version: position for position, version in enumerate(data["versions"])}
        others = sorted((v for v in data["versions"] if v not in protected),
                        key=lambda v: (data["versions"][v].get("created", ""), added[v]),
                        reverse=True)
        doomed = others[self.keep_versions:]
        if not doomed:
            return
        for version in doomed:
            del data["versions"][version]
        self._write_raw(data)
        for version in doomed:
            shutil.rmtree(self.path(version), ignore_errors=True)
        log.info("retention: deleted %d old model version(s): %s", len(doomed),
                 ", ".join(doomed))

    def _remove_orphans(self) -> None:
        """Delete version directories the index does not list (a write killed
        between moving the version in and indexing it)."""
        listed = set(self._read_raw()["versions"])
        for path in self.root.iterdir():
            if path.is_dir() and not path.name.startswith(_TMP_PREFIX) and path.name not in listed:
                log.warning("removing %s: a model directory the registry does not list "
                            "(left by an interrupted write)", path)
                shutil.rmtree(path, ignore_errors=True)

    def _remove_stale_temporaries(self) -> None:
        """Under the lock: version directories being written by a process that is
        gone, and index files written beside ``registry.json`` and never renamed
        (the index is only written under the lock, so none is being written now)."""
        for path in self.root.glob(f"{_TMP_PREFIX}*"):
            if _abandoned(path):
                log.warning("removing %s, left by an interrupted write", path)
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(f".{INDEX_FILE}.*.tmp"):  # see temporary_name()
            log.warning("removing %s, left by an interrupted registry update", path)
            path.unlink(missing_ok=True)


def _abandoned(path: Path) -> bool:
    """Whether the temporary version directory ``path`` (``.tmp-<pid>-<version>@<host>``;
    no ``@<host>``: this host) belongs to no running writer."""
    pid, _, rest = path.name[len(_TMP_PREFIX):].partition("-")
    host = rest.rpartition("@")[2] if "@" in rest else socket.gethostname()
    if host != socket.gethostname():
        try:
            return time.time() - path.stat().st_mtime > FOREIGN_TEMPORARY_SECONDS
        except OSError:
            return False
    return not (pid.isdigit() and pid_alive(int(pid)))


def adopt_legacy_index(home: Path, root: Path) -> None:
    """Move ``home/registry.json`` (where homes made before the ``registry``
    setting kept the index; their versions are in ``home/models`` already)
    into the registry directory ``root``, if ``root`` is ``home/models`` and
    has no index yet."""
    legacy, root = Path(home) / INDEX_FILE, Path(root)
    if root == Path(home) / MODELS_DIR and legacy.is_file() and not (root / INDEX_FILE).exists():
        root.mkdir(parents=True, exist_ok=True)
        os.replace(legacy, root / INDEX_FILE)
        fsync_dir(root)
        log.warning("moved the registry index %s into %s", legacy, root)


def open_registry(settings, **options) -> Registry:
    """The registry of :class:`service.config.Settings` ``settings`` (its
    ``registry`` directory, else ``home/models``); ``options`` go to
    :class:`Registry`. A home made before the ``registry`` setting has its
    index moved into ``home/models`` first (skipped, with a warning, while
    the disk cannot be written)."""
    root = settings.resolved_registry()
    try:
        adopt_legacy_index(settings.home, root)
    except OSError as exc:
        if storage_problem(exc) is None:
            raise
        log.warning("cannot move the legacy registry index now (%s)", exc)
    return Registry(root, **{"keep_versions": settings.keep_versions, **options})
