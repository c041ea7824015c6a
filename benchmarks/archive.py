"""``score-archive`` throughput on 1 and 2 local Dask workers against in-process scoring.

The archive: headlines of the unlabeled pool (both files, in order;
repeated to ``Sizes.archive_headlines``: 200,000 in the full run, 3,000
in the quick run), written once as a Parquet dataset of equal part files, one
per partition. Measured side by side in one run, medians of ``repeats``:

- in process: ``Model.predict_proba`` in this process on the same
  headlines, in the same partition-sized batches (one core, no I/O);
- for 1 and 2 workers: a ``LocalCluster`` of that many single-threaded
  worker processes (model.archive.dask_client, as the CLI starts it). Its
  start-up is timed on its own, and the model broadcast once per cluster
  (sent, verified and loaded on every worker, the model's code imported
  there); then one untimed pass, and each repeat is one score-archive
  pass (model.archive.score): the workers read the partitions, score them
  and write the Parquet output, renamed into place.

Throughput is headlines per second of that pass. On this 2-core machine
the client and the scheduler share the cores with the workers, so 2
workers cannot reach 2x; the ratios are those of this machine. The last
pass's output is checked against the in-process scores.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import time
from pathlib import Path

from benchmarks.config import BenchConfig
from benchmarks.throughput import unlabeled_headlines

log = logging.getLogger(__name__)

WORKER_COUNTS = (1, 2)
TOLERANCE = 1e-9  # largest |p archive - p in process| accepted


def archive_headlines(config: BenchConfig, n: int) -> list[str]:
    """``n`` headlines: the unlabeled pool in order, repeated as needed."""
    pool = unlabeled_headlines(config, n)
    return [pool[i % len(pool)] for i in range(n)]


def write_archive(directory: Path, headlines: list[str], partitions: int) -> Path:
    """A Parquet dataset of ``partitions`` equal part files (id, headline)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True)
    size = -(-len(headlines) // partitions)
    for part, start in enumerate(range(0, len(headlines), size)):
        chunk = headlines[start:start + size]
        pq.write_table(pa.table({"id": list(range(start, start + len(chunk))),
                                 "headline": chunk}), directory / f"part.{part:05d}.parquet")
    return directory


def in_process(headlines: list[str], batch: int, repeats: int) -> dict:
    """Median seconds of scoring every headline with ``predict_proba`` in
    ``batch``-sized calls (the model loaded, warmed and one pass run first,
    untimed, as on the workers)."""
    from model import load_model

    model = load_model()
    batches = [headlines[i:i + batch] for i in range(0, len(headlines), batch)]
    runs, scores = [], None
    for chunk in batches:
        model.predict_proba(chunk)
    for _ in range(repeats):
        started = time.perf_counter()
        scores = [p for chunk in batches for p in model.predict_proba(chunk).tolist()]
        runs.append(time.perf_counter() - started)
    seconds = statistics.median(runs)
    return {"seconds": round(seconds, 4), "runs": [round(r, 4) for r in runs], "batch": batch,
            "headlines_per_second": round(len(headlines) / seconds), "p": scores}


def on_cluster(workers: int, source: Path, work_dir: Path, repeats: int,
               partitions: int) -> dict:
    """Cluster start, one broadcast, then ``repeats`` score-archive passes."""
    import pandas as pd

    from model import archive

    payload = archive.model_payload()
    started = time.perf_counter()
    with archive.dask_client(None, workers) as client:
        start_seconds = time.perf_counter() - started
        with archive.broadcast(client, payload) as model:
            runs, result, output = [], None, None
            for repeat in range(repeats + 1):  # pass 0: untimed warm-up
                output = work_dir / f"scored-{workers}w-{repeat}.parquet"
                job = archive.prepare(str(source), output, blocksize=1 << 30)
                if job.npartitions != partitions:
                    raise RuntimeError(f"{job.npartitions} partitions read, {partitions} written")
                result = archive.score(client, job, model)
                if repeat:
                    runs.append(result.scoring_seconds)
                if repeat < repeats:
                    shutil.rmtree(output)
    scored = pd.read_parquet(output)["p_clickbait"].tolist()
    shutil.rmtree(output)
    seconds = statistics.median(runs)
    return {"workers": workers, "cluster_start_seconds": round(start_seconds, 3),
            "broadcast_seconds": round(model.seconds, 3), "seconds": round(seconds, 4),
            "runs": [round(r, 4) for r in runs],
            "headlines_per_second": round(result.rows / seconds),
            "partitions_per_worker": sorted(result.workers.values()), "p": scored}


def run(config: BenchConfig) -> dict:
    sizes = config.sizes
    n, partitions, repeats = (sizes.archive_headlines, sizes.archive_partitions,
                              sizes.archive_repeats)
    headlines = archive_headlines(config, n)
    source = write_archive(config.work_dir / "archive.parquet", headlines, partitions)
    baseline = in_process(headlines, -(-n // partitions), repeats)
    clusters = {}
    for workers in WORKER_COUNTS:
        log.info("archive: %d worker(s), %d headlines", workers, n)
        clusters[str(workers)] = on_cluster(workers, source, config.work_dir, repeats,
                                            partitions)
    expected = baseline.pop("p")
    worst = max(max(abs(a - b) for a, b in zip(figures.pop("p"), expected))
                for figures in clusters.values())
    if worst > TOLERANCE:
        raise RuntimeError(f"score-archive differs from in-process scoring by {worst}")
    rate = {name: figures["headlines_per_second"] for name, figures in clusters.items()}
    return {"headlines": n, "partitions": partitions, "repeats": repeats,
            "cores": os.cpu_count(), "format": "Parquet in, Parquet out",
            "in_process": baseline, "clusters": clusters, "max_abs_difference": worst,
            "ratios": {"2_workers_vs_in_process": round(rate["2"] / baseline[
                "headlines_per_second"], 3), "2_vs_1_workers": round(rate["2"] / rate["1"], 3)}}
