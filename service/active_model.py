"""The active model of one worker process, switched when the registry's pointer moves.

Each request calls :meth:`ActiveModel.get` once and keeps the returned
:class:`model.scoring.Model` for its whole duration, so it never mixes two
versions. ``get`` costs one ``stat`` of the registry index while nothing
changes; when the index file changes (any worker or the retraining process
rewrote it), the new index is read and, if it names another active
version, that version is loaded under a lock and the reference swapped.
Requests already running keep the object they hold and finish on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import threading

from model.artifacts import ArtifactError
from model.scoring import Model
from service.stores.registry import Registry, RegistryError

log = logging.getLogger(__name__)


class ModelUnavailable(Exception):
    """No model could be loaded yet (the first load is running or failed)."""


class ActiveModel:
    """Holds the loaded active model of this process."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self._lock = threading.Lock()
        self._model: Model | None = None
        self._stamp: tuple | None = None
        self.last_error: str | None = None

    @property
    def loaded(self) -> Model | None:
        """The model loaded now, without checking the registry (None before the first load)."""
        return self._model

    def get(self) -> Model:
        """The model of the active version, loading it first if the pointer moved.

        If the new active version cannot be loaded, the previous model keeps
        serving and the error is logged; raises :class:`ModelUnavailable`
        only when there is no model at all.
        """
        stamp = self.registry.stamp()
        if self._needs_refresh(stamp):
            with self._lock:
                if self._needs_refresh(stamp):
                    self._refresh()
        if self._model is None:
            raise ModelUnavailable(self.last_error or "the model is still loading")
        return self._model

    def install(self, model: Model) -> None:
        """Use ``model`` (already loaded and verified, e.g. by an activation) now."""
        with self._lock:
            had_model, self._model = self._model is not None, model
        if had_model:
            release_memory()

    def _needs_refresh(self, stamp: tuple | None) -> bool:
        # After a failed load, wait for the registry to change before retrying.
        return stamp != self._stamp or (self._model is None and self.last_error is None)

    def _refresh(self) -> None:
        try:
            index = self.registry.read()
        except (OSError, ValueError, KeyError, RegistryError) as exc:
            self.last_error = f"cannot read the model registry: {exc}"
            log.error("%s", self.last_error)
            return
        if self._model is None or self._model.version != index.active:
            try:
                model = self.registry.load(index.active, index)
            except (OSError, ArtifactError, RegistryError) as exc:
                self.last_error = f"cannot load model {index.active}: {exc}"
                log.error("%s; %s", self.last_error,
                          "keeping the previous model" if self._model else "no model to serve")
                self._stamp = index.stamp  # retry only when the registry changes again
                return
            log.info("switched to model %s", index.active)
            had_model, self._model = self._model is not None, model
            self.last_error = None
            if had_model:
                release_memory()
        self._stamp = index.stamp


def release_memory() -> None:
    """Collect the model just replaced and hand its freed pages back to the
    system (glibc's ``malloc_trim``; a no-op elsewhere). A model's vocabulary
    is some 90 MB of small objects; without the trim a worker keeps that much
    more after every promotion. Requests still running on the old model keep
    it alive; with gunicorn's sync workers there are none."""
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass
