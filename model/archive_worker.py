"""The worker side of ``headline-sieve score-archive`` (see :mod:`model.archive`).

Runs inside the Dask workers: :class:`ModelPlugin` carries the verified
artifact's bytes to every worker once, re-checks their SHA-256 there, loads
the :class:`model.scoring.Model` and keeps it on the worker object; the
partition functions score a partition with that model (one vectorised
``predict_proba`` per partition) and write it out (Parquet: a part file on
the workers' filesystem; JSON lines: bytes for the client to write in
order).

This module subclasses ``distributed.WorkerPlugin``, so it imports
distributed (and pandas) at its top: only :mod:`model.archive` (inside its
functions) and the workers import it, never the CLI at start.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from distributed import WorkerPlugin

from model.artifacts import unpickle_artifact
from model.classifier import LABELS
from model.scoring import Model

log = logging.getLogger(__name__)

WORKER_ATTRIBUTE = "headline_sieve_models"  # {plugin name: Model} on each distributed.Worker
OUTPUT_COLUMNS = ("headline", "p_clickbait", "label", "model")


class ModelPlugin(WorkerPlugin):
    """A model version sent once to every worker (and to any that joins later).

    ``data`` is the joblib file's bytes, verified by the client against
    ``sha256``; :meth:`setup` verifies them again on the worker before
    unpickling, so bytes changed on the way (or a plugin built by hand) are
    never loaded. The loaded model lives in ``worker.headline_sieve_models[name]``
    until :meth:`teardown` (the client unregisters the plugin at the end of
    its run), so every partition a worker scores reuses it.
    """

    idempotent = False

    def __init__(self, name: str, data: bytes, manifest: dict, sha256: str):
        self.name = name
        self.data = data
        self.manifest = manifest
        self.sha256 = sha256

    async def setup(self, worker) -> None:
        # Unpickling and warming take seconds: in a thread, so that the worker's
        # event loop keeps answering the scheduler (heartbeats) meanwhile.
        loop = asyncio.get_running_loop()
        model = await loop.run_in_executor(None, self._load, worker.address)
        models = getattr(worker, WORKER_ATTRIBUTE, None)
        if models is None:
            models = {}
            setattr(worker, WORKER_ATTRIBUTE, models)
        models[self.name] = model
        self.data = b""  # loaded; the scheduler keeps its own copy for workers that join
        log.info("model %s loaded on %s", model.version, worker.address)

    def _load(self, address: str) -> Model:
        estimator = unpickle_artifact(self.data, self.sha256,
                                      f"model {self.manifest.get('version')} on {address}",
                                      self.manifest.get("artifact_format"))
        return Model(estimator, self.manifest).warm()

    def teardown(self, worker) -> None:
        getattr(worker, WORKER_ATTRIBUTE, {}).pop(self.name, None)


def worker_model(name: str) -> tuple[Model, str]:
    """``(model, worker address)``: the model plugin ``name`` loaded on this worker."""
    from distributed import get_worker

    worker = get_worker()
    model = getattr(worker, WORKER_ATTRIBUTE, {}).get(name)
    if model is None:
        raise RuntimeError(f"worker {worker.address} has no model {name!r} (its plugin "
                           "failed or was removed); see the worker's log")
    return model, worker.address


def _text(value) -> str | None:
    """A cell as a headline: None for a missing value (None, NaN, pd.NA)."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or value is pd.NaT or (
            isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def score_headlines(values: Sequence, model: Model) -> dict[str, list]:
    """Score one partition's headline cells in one vectorised pass.

    Returns the output columns (:data:`OUTPUT_COLUMNS`), each a list of
    ``len(values)``: ``headline`` (str or None), ``p_clickbait`` (float in
    [0, 1], None for a null or blank headline), ``label`` (``clickbait`` where
    p_clickbait >= the model's threshold, else ``substantive``; None with p)
    and ``model`` (the version).
    """
    texts = [_text(v) for v in values]
    wanted = [i for i, t in enumerate(texts) if t is not None and t.strip()]
    p: list[float | None] = [None] * len(texts)
    label: list[str | None] = [None] * len(texts)
    if wanted:
        scores = model.predict_proba([texts[i] for i in wanted]).tolist()
        cut = model.threshold
        for i, pi in zip(wanted, scores):
            p[i] = pi
            label[i] = LABELS[int(pi >= cut)]
    return {"headline": texts, "p_clickbait": p, "label": label,
            "model": [model.version] * len(texts)}


def _stats(columns: dict[str, list], address: str) -> dict:
    rows = len(columns["headline"])
    scored = sum(p is not None for p in columns["p_clickbait"])
    return {"rows": rows, "scored": scored, "worker": address}


def parquet_part(frame, column: str, name: str, path: str) -> dict:
    """Score partition ``frame`` (a pandas DataFrame with ``column``) and write it
    to the Parquet file ``path`` (on the workers' filesystem: a directory
    shared by every worker); returns ``{"rows", "scored", "worker"}``.
    Rewriting the same ``path`` (a task retried after a worker died) is harmless."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    model, address = worker_model(name)
    columns = score_headlines(frame[column].tolist(), model)
    schema = pa.schema([("headline", pa.string()), ("p_clickbait", pa.float64()),
                        ("label", pa.string()), ("model", pa.string())])
    table = pa.Table.from_pydict(columns, schema=schema)
    pq.write_table(table, Path(path))
    return _stats(columns, address)


def jsonl_part(frame, column: str, name: str) -> tuple[bytes, dict]:
    """Score partition ``frame`` and encode it as JSON lines (UTF-8, not
    ASCII-escaped, null for a missing value), for the client to append in
    input order; returns ``(bytes, {"rows", "scored", "worker"})``."""
    import orjson

    model, address = worker_model(name)
    columns = score_headlines(frame[column].tolist(), model)
    lines = [orjson.dumps({"headline": h, "p_clickbait": p, "label": lab, "model": m})
             for h, p, lab, m in zip(*(columns[c] for c in OUTPUT_COLUMNS))]
    body = b"\n".join(lines) + b"\n" if lines else b""
    return body, _stats(columns, address)
