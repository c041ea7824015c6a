"""Re-score an archive of headlines on a Dask cluster (``headline-sieve score-archive``).

After a new model is promoted, an archive of millions of headlines is
scored again. The pipeline, one function per step:

1. :func:`prepare`: formats by suffix (:data:`INPUT_FORMATS`,
   :data:`OUTPUT_FORMATS`), the input exists, the output does not (unless
   ``overwrite``), and a lazy ``dask.dataframe`` of the headline column
   (:func:`read_archive`; only the schema or a sample is read here, the
   partitions are read on the workers).
2. :func:`model_payload`: the model's joblib bytes and manifest, SHA-256
   verified once in the client (a model directory, or a registry's active
   version checked against the registry's own hashes).
3. :func:`dask_client`: a ``LocalCluster`` of worker processes on loopback
   (no dashboard), or a connection to an existing scheduler.
4. :func:`run`: the model broadcast once per worker (:func:`broadcast`,
   with :class:`model.archive_worker.ModelPlugin`; verified again there
   before unpickling), then one task per partition (:func:`score`): the
   partition's headlines scored in one vectorised ``predict_proba`` (the
   compiled kernel when built) and written. Parquet out: each worker writes
   its partitions' part files into a temporary sibling directory of
   OUTPUT. JSON lines out: the workers encode, the client appends the
   partitions in input order to a temporary sibling file. The temporary is
   renamed into place at the end, so a failed run never leaves a
   half-written OUTPUT.

Where the files must be: the workers read INPUT and (Parquet out) write
beside OUTPUT themselves, and the client reads INPUT's schema, so on
several machines both paths must be the same for every machine: a shared
filesystem (NFS, ...) mounted at the same path, or, for INPUT, an object
store URL (``s3://...``, with its fsspec package installed on every
machine). Every worker needs headline-sieve installed (the model's code).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from model.artifacts import read_artifact, sha256_bytes
from model.scoring import BUNDLED_MODEL_DIR

log = logging.getLogger(__name__)

INPUT_FORMATS = {".csv": "csv", ".jsonl": "json", ".json": "json", ".ndjson": "json",
                 ".parquet": "parquet"}
OUTPUT_FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}
FORMAT_NAMES = {"csv": "CSV", "json": "JSON lines", "parquet": "Parquet", "jsonl": "JSON lines"}
DEFAULT_BLOCKSIZE = 32 * 2**20  # bytes of input per partition (~250,000 headlines of CSV)
DEFAULT_WORKERS = 2
CONNECT_TIMEOUT_SECONDS = 5.0
# The scheduler always runs an HTTP server (health, metrics; the dashboard only when
# asked): on a free loopback port, not on 8787 (which another cluster may hold).
LOOPBACK_HTTP = {"dashboard": False, "dashboard_address": "127.0.0.1:0"}

# (partitions done, partitions in all, rows written so far), after each partition.
Progress = Callable[[int, int, int], None]


class ArchiveError(ValueError):
    """Bad input for score-archive: format, path, column, scheduler."""


def _first_line(exc: BaseException) -> str:
    """The first line of the innermost cause of ``exc`` (dask wraps a reader's
    error in "An error occurred while calling ...")."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, UnicodeDecodeError) and len(exc.args) == 5:
        # str() of one sent back by a worker is empty; its args hold the facts
        encoding, _, start, _, reason = exc.args
        return f"not valid {encoding} text ({reason} at byte {start} of the block)"
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0]


# -- formats and paths -------------------------------------------------------

def _suffix(path: str) -> str:
    """``.csv`` of ``/a/b.CSV``, ``s3://bucket/x.csv?v=1`` or ``logs/*.csv``."""
    if "://" in path:
        path = path.split("?", 1)[0]
    return PurePosixPath(path.rstrip("/")).suffix.lower()


def input_format(source: str) -> str:
    """``csv``, ``json`` (JSON lines) or ``parquet``, from INPUT's suffix."""
    suffix = _suffix(source)
    fmt = INPUT_FORMATS.get(suffix)
    if fmt is None:
        raise ArchiveError(f"{source}: unknown input suffix {suffix or '(none)'!r}; "
                           f"use one of {', '.join(INPUT_FORMATS)} (a Parquet dataset "
                           "directory too must end in .parquet)")
    return fmt


def output_format(output: str | Path) -> str:
    """``parquet`` (a dataset directory) or ``jsonl`` (one file), from OUTPUT's suffix."""
    suffix = _suffix(str(output))
    fmt = OUTPUT_FORMATS.get(suffix)
    if fmt is None:
        raise ArchiveError(f"{output}: unknown output suffix {suffix or '(none)'!r}; use one "
                           f"of {', '.join(OUTPUT_FORMATS)}")
    return fmt


def check_input(source: str, fmt: str) -> None:
    """INPUT exists and is readable (a local path or glob; URLs are checked by
    the reader)."""
    if "://" in source:
        return
    if any(ch in source for ch in "*?["):
        if not glob.glob(source):
            raise FileNotFoundError(f"{source}: no file matches")
        return
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{source}: no such file")
    if path.is_dir() and fmt != "parquet":
        raise ArchiveError(f"{source} is a directory; give a {FORMAT_NAMES[fmt]} file "
                           "(or a glob such as DIR/*.csv)")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{source}: not readable (permission denied)")


def check_output(output: Path, overwrite: bool) -> None:
    """OUTPUT may be written: its folder exists, and it does not unless ``overwrite``."""
    if os.path.lexists(output) and not overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite to replace it")
    if not output.parent.is_dir():
        raise FileNotFoundError(f"{output.parent}: no such folder for OUTPUT")


# -- reading -------------------------------------------------------------------

def read_archive(source: str, fmt: str, column: str, blocksize: int):
    """The lazy ``dask.dataframe`` of INPUT's ``column`` (one column), in
    partitions of about ``blocksize`` bytes of input (Parquet: of row groups).

    Only CSV's and JSON lines' first block and Parquet's metadata are read
    here (to learn the columns). CSV is read as text (no type guessing:
    ``007`` stays ``007``) and only an empty field is missing; JSON values are
    kept as they are.
    """
    import dask.dataframe as dd

    try:
        if fmt == "csv":
            frame = dd.read_csv(source, blocksize=blocksize, dtype=str, keep_default_na=False,
                                na_values=[""], encoding="utf-8-sig")
        elif fmt == "json":
            frame = dd.read_json(source, lines=True, blocksize=blocksize, dtype=False,
                                 convert_dates=False)
        else:
            frame = dd.read_parquet(source, blocksize=blocksize)
    except Exception as exc:  # noqa: BLE001 - pandas, pyarrow, fsspec: one line for the CLI
        raise ArchiveError(f"{source}: cannot be read as {FORMAT_NAMES[fmt]} "
                           f"({_first_line(exc)})") from exc
    if column not in frame.columns:
        names = ", ".join(str(c) for c in frame.columns) or "none"
        raise ArchiveError(f"{source} has no column {column!r} (columns: {names}); "
                           "pick one with --column")
    return frame[[column]]


@dataclass
class ArchiveJob:
    """What to read and where to write, checked (see :func:`prepare`)."""

    source: str
    output: Path
    input_format: str
    output_format: str
    column: str
    frame: Any  # dask DataFrame, the one column
    overwrite: bool = False

    @property
    def npartitions(self) -> int:
        return self.frame.npartitions


def prepare(source: str, output: str | Path, column: str = "headline",
            blocksize: int = DEFAULT_BLOCKSIZE, overwrite: bool = False) -> ArchiveJob:
    """Check INPUT and OUTPUT and build the lazy input frame; no cluster needed."""
    source = str(source)
    output = Path(output)
    fmt_in, fmt_out = input_format(source), output_format(output)
    check_input(source, fmt_in)
    check_output(output, overwrite)
    frame = read_archive(source, fmt_in, column, blocksize)
    return ArchiveJob(source, output, fmt_in, fmt_out, column, frame, overwrite)


# -- the model -----------------------------------------------------------------

@dataclass(frozen=True)
class ModelPayload:
    """A model version as sent to the workers: the joblib file's bytes (SHA-256
    ``sha256``, verified) and its manifest."""

    data: bytes
    manifest: dict
    sha256: str
    source: str  # the directory it was read from

    @property
    def version(self) -> str:
        return self.manifest["version"]


def model_payload(model_dir: str | Path | None = None,
                  registry_dir: str | Path | None = None) -> ModelPayload:
    """The model to score with: the registry's active version (its joblib file
    and manifest checked against the registry's hashes), else the model
    directory ``model_dir`` (default: the bundled model), checked against its
    manifest. Raises :class:`model.artifacts.ArtifactError` or
    ``RegistryError`` when it cannot be verified."""
    if registry_dir is not None:
        from service.stores.registry import Registry

        registry = Registry(Path(registry_dir))
        index = registry.read()
        entry = index.entry(index.active)
        directory = registry.path(index.active)
        data, manifest = read_artifact(directory, expected_sha256=entry["sha256"],
                                       expected_manifest_sha256=entry.get("manifest_sha256"))
    else:
        directory = Path(model_dir) if model_dir else BUNDLED_MODEL_DIR
        data, manifest = read_artifact(directory)
    return ModelPayload(data, manifest, sha256_bytes(data), str(directory))


# -- the cluster -------------------------------------------------------------

def quiet_dask_logs(verbose: bool = False) -> int:
    """Set distributed's loggers (scheduler, client, comm, ...) to INFO with
    ``verbose``, else ERROR (the client's, which only reports a lost
    connection, to CRITICAL); returns the level."""
    level = logging.INFO if verbose else logging.ERROR
    import distributed  # noqa: F401 - configures its loggers on import; set them after

    names = [name for name in logging.root.manager.loggerDict
             if name == "distributed" or name.startswith("distributed.")]
    for name in {"distributed", *names}:
        logging.getLogger(name).setLevel(level)
    if not verbose:  # a lost scheduler: said once, by the CLI's error line
        logging.getLogger("distributed.client").setLevel(logging.CRITICAL)
    return level


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int = DEFAULT_WORKERS, *,
                connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
                verbose: bool = False) -> Iterator[Any]:
    """A ``distributed.Client``: connected to ``scheduler`` (``tcp://HOST:PORT``),
    or to a ``LocalCluster`` of ``workers`` processes of one thread each,
    listening on loopback only, without a dashboard, closed at the end."""
    level = quiet_dask_logs(verbose)
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            from distributed.comm.addressing import get_address_host_port

            get_address_host_port(scheduler)  # a bad address fails here, not in Client
            client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ValueError (address)
            raise ArchiveError(f"cannot reach the Dask scheduler at {scheduler}: "
                               f"{_first_line(exc)}; check --scheduler") from None
        try:
            try:
                client.wait_for_workers(1, timeout=connect_timeout)
            except Exception as exc:  # noqa: BLE001 - TimeoutError
                raise ArchiveError(f"the Dask scheduler at {scheduler} has no workers "
                                   f"({_first_line(exc)}); start some with "
                                   f"'dask worker {scheduler}'") from None
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.close()
        return
    if workers < 1:
        raise ArchiveError(f"--workers {workers}: must be at least 1")
    # The workers' own log (e.g. "Compute Failed" with the whole task): only with -v;
    # a failure reaches the user as the CLI's one line.
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           silence_logs=level if verbose else logging.CRITICAL,
                           scheduler_kwargs=LOOPBACK_HTTP)
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


# -- running ------------------------------------------------------------------

@dataclass
class ArchiveResult:
    """What a run wrote. ``workers``: partitions scored per worker address."""

    output: str
    output_format: str
    rows: int = 0
    scored: int = 0  # rows with a p_clickbait (the others: null or blank headlines)
    partitions: int = 0
    model: str = ""
    workers: dict[str, int] = field(default_factory=dict)
    broadcast_seconds: float = 0.0  # model sent, verified and loaded on every worker
    scoring_seconds: float = 0.0  # read, score, write, rename

    def to_dict(self) -> dict:
        return {"output": self.output, "format": self.output_format, "rows": self.rows,
                "scored": self.scored, "null_or_blank": self.rows - self.scored,
                "partitions": self.partitions, "model": self.model, "workers": self.workers,
                "broadcast_seconds": round(self.broadcast_seconds, 3),
                "scoring_seconds": round(self.scoring_seconds, 3)}


def _temporary_sibling(output: Path, kind: str = "tmp") -> Path:
    return output.with_name(f".{output.name}.{kind}-{os.getpid()}-{secrets.token_hex(3)}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _publish(tmp: Path, output: Path, overwrite: bool) -> None:
    """Rename the finished ``tmp`` to ``output`` (a file over a file: atomically;
    otherwise the old OUTPUT is moved aside first, then deleted)."""
    if os.path.lexists(output):
        if not overwrite:
            raise FileExistsError(f"{output} appeared during the run; pass --overwrite to "
                                  "replace it (the new result was discarded)")
        if tmp.is_file() and output.is_file():
            os.replace(tmp, output)
        else:
            old = _temporary_sibling(output, "old")
            os.rename(output, old)
            os.rename(tmp, output)
            _remove(old)
    else:
        os.rename(tmp, output)
    from service.stores.storage import fsync_dir

    with contextlib.suppress(OSError):  # a filesystem without directory fsync
        fsync_dir(output.parent)


def _tasks(job: ArchiveJob, plugin: str, tmp: Path) -> list:
    """One delayed task per input partition, in input order: score and write
    (Parquet: a part file ``part.NNNNN.parquet`` in ``tmp``; names sort in
    input order) or score and encode (JSON lines)."""
    from dask import delayed

    from model.archive_worker import jsonl_part, parquet_part

    parts = job.frame.to_delayed()
    if job.output_format == "parquet":
        width = max(5, len(str(len(parts) - 1)))
        return [delayed(parquet_part)(part, job.column, plugin,
                                      str(tmp / f"part.{i:0{width}d}.parquet"))
                for i, part in enumerate(parts)]
    return [delayed(jsonl_part)(part, job.column, plugin) for part in parts]


def _failure(exc: BaseException, job: ArchiveJob, index: int | None, scheduler: str) -> Exception:
    """The one-line error of a task that failed or a cluster that went away."""
    import asyncio
    import concurrent.futures

    from distributed.comm.core import CommClosedError

    if isinstance(exc, (asyncio.CancelledError, concurrent.futures.CancelledError,
                        CommClosedError)):
        return ArchiveError(f"lost the Dask scheduler at {scheduler} during the run "
                            f"({_first_line(exc)}); check --scheduler; OUTPUT was not written")
    where = f"partition {index} of {job.source}" if index is not None else job.source
    return ArchiveError(f"{where}: {exc.__class__.__name__}: {_first_line(exc)}")


def _result(future, job: ArchiveJob, index: int, scheduler: str):
    """``future``'s result, or the task's failure as one line (:func:`_failure`)."""
    try:
        return future.result()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - asyncio's CancelledError is a BaseException
        raise _failure(exc, job, index, scheduler) from exc


def _gather_in_order(client, tasks: list, consume: Callable[[int, Any], int],
                     progress: Progress | None, job: ArchiveJob) -> None:
    """Compute ``tasks`` on the cluster and call ``consume(i, result)`` (which
    returns the rows it wrote) for i = 0, 1, ... in order; a result ready
    early waits on its worker. Stops at the first failure, the rest cancelled."""
    from distributed import as_completed

    scheduler = client.scheduler.address
    futures = client.compute(tasks)
    position = {future.key: i for i, future in enumerate(futures)}
    ready: dict[int, Any] = {}
    next_index = done = rows = 0
    if progress is not None:
        progress(0, len(futures), 0)
    try:
        for future in as_completed(futures, loop=client.loop):
            index = position[future.key]
            if future.status != "finished":
                _result(future, job, index, scheduler)  # raises the task's failure
            ready[index] = future
            done += 1
            while next_index in ready:
                finished = ready.pop(next_index)
                rows += consume(next_index, _result(finished, job, next_index, scheduler))
                finished.release()
                next_index += 1
            if progress is not None:
                progress(done, len(futures), rows)
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            with contextlib.suppress(Exception):
                client.cancel(unfinished)


@dataclass(frozen=True)
class Broadcast:
    """A model loaded on every worker: the plugin ``name`` the partition tasks
    look it up by, its ``version``, and the ``seconds`` sending, verifying and
    loading it took (the slowest worker)."""

    name: str
    version: str
    seconds: float


@contextlib.contextmanager
def broadcast(client, payload: ModelPayload) -> Iterator[Broadcast]:
    """Send ``payload`` once to every worker of ``client``'s cluster (and to any
    that joins while the block runs), where it is verified and loaded; the
    model is removed from the workers at the end of the block."""
    from model.archive_worker import ModelPlugin

    name = f"headline-sieve-model-{payload.sha256[:12]}-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    try:
        client.register_plugin(ModelPlugin(name, payload.data, payload.manifest,
                                           payload.sha256))
        sent = Broadcast(name, payload.version, time.perf_counter() - started)
        log.info("model %s loaded on %d worker(s) in %.2f s", payload.version,
                 len(client.scheduler_info()["workers"]), sent.seconds)
        yield sent
    finally:
        with contextlib.suppress(Exception):
            client.unregister_worker_plugin(name)


def score(client, job: ArchiveJob, model: Broadcast,
          progress: Progress | None = None) -> ArchiveResult:
    """Score every partition of ``job`` on the workers with the broadcast
    ``model`` and write OUTPUT (a temporary sibling, renamed into place once
    everything is written; removed if anything fails)."""
    result = ArchiveResult(str(job.output), job.output_format, partitions=job.npartitions,
                           model=model.version, broadcast_seconds=model.seconds)
    tmp = _temporary_sibling(job.output)
    started = time.perf_counter()
    try:
        if job.output_format == "parquet":
            tmp.mkdir()
            _score_to_parquet(client, job, model.name, tmp, result, progress)
        else:
            _score_to_jsonl(client, job, model.name, tmp, result, progress)
        _publish(tmp, job.output, job.overwrite)
    except BaseException:
        _remove(tmp)
        raise
    result.scoring_seconds = time.perf_counter() - started
    log.info("%d rows (%d scored) in %d partitions -> %s in %.2f s", result.rows, result.scored,
             result.partitions, job.output, result.scoring_seconds)
    return result


def run(client, job: ArchiveJob, payload: ModelPayload,
        progress: Progress | None = None) -> ArchiveResult:
    """:func:`broadcast` the model, then :func:`score` ``job`` with it."""
    with broadcast(client, payload) as model:
        return score(client, job, model, progress)


def _count(result: ArchiveResult, stats: dict) -> int:
    result.rows += stats["rows"]
    result.scored += stats["scored"]
    result.workers[stats["worker"]] = result.workers.get(stats["worker"], 0) + 1
    return stats["rows"]


def _score_to_parquet(client, job: ArchiveJob, plugin: str, tmp: Path, result: ArchiveResult,
                      progress: Progress | None) -> None:
    _gather_in_order(client, _tasks(job, plugin, tmp),
                     lambda i, stats: _count(result, stats), progress, job)


def _score_to_jsonl(client, job: ArchiveJob, plugin: str, tmp: Path, result: ArchiveResult,
                    progress: Progress | None) -> None:
    with open(tmp, "xb") as handle:
        def append(i: int, answer: tuple[bytes, dict]) -> int:
            body, stats = answer
            handle.write(body)
            return _count(result, stats)

        _gather_in_order(client, _tasks(job, plugin, tmp), append, progress, job)
        handle.flush()
        os.fsync(handle.fileno())


def score_archive(source: str, output: str | Path, *, column: str = "headline",
                  scheduler: str | None = None, workers: int = DEFAULT_WORKERS,
                  model_dir: str | Path | None = None, registry_dir: str | Path | None = None,
                  blocksize: int = DEFAULT_BLOCKSIZE, overwrite: bool = False,
                  connect_timeout: float = CONNECT_TIMEOUT_SECONDS, verbose: bool = False,
                  progress: Progress | None = None) -> ArchiveResult:
    """The whole command: check the input, output and model first (no cluster is
    started for bad input), then score on ``scheduler``'s cluster or a local one."""
    if scheduler is None and workers < 1:
        raise ArchiveError(f"--workers {workers}: must be at least 1")
    job = prepare(source, output, column, blocksize, overwrite)
    payload = model_payload(model_dir, registry_dir)
    with dask_client(scheduler, workers, connect_timeout=connect_timeout,
                     verbose=verbose) as client:
        return run(client, job, payload, progress)
