"""Training time and peak memory of the default recipe against data size.

Each point runs ``headline-sieve train --recipe default --data-dir D --out
M`` in a child process on a scaled copy of the corpora
(:mod:`benchmarks.corpora`: 25% and 50% are random subsets of every file;
2x and 4x repeat every row with a suffix so de-duplication keeps the
copies; the quick run scales a 2% subset the same way). Wall time is measured around the command (interpreter start
included); peak memory is the largest resident set of the process and its
children (the per-category fitting runs in 2 worker processes), sampled
every 50 ms with psutil. The manifest's own ``training_seconds`` (dataset,
fit and evaluation, without start-up and saving) is reported too.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time

import numpy as np

from benchmarks.config import BenchConfig
from benchmarks.corpora import scaled_corpora
from benchmarks.server import cli
from benchmarks.timing import PeakMemory
from training.locations import PROJECT_ROOT

log = logging.getLogger(__name__)


def _train(data_dir, out_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLINE_SIEVE_")}
    command = [*cli(), "train", "--recipe", "default", "--data-dir", str(data_dir),
               "--out", str(out_dir)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, cwd=PROJECT_ROOT)
    with PeakMemory(process.pid) as memory:
        stdout, stderr = process.communicate(timeout=3600)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"training failed ({process.returncode}):\n{stderr.decode()[-2000:]}")
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    return {"wall_seconds": round(wall, 2), "peak_rss_mb": round(memory.peak_bytes / 2**20, 1),
            "training_seconds": manifest["training_seconds"],
            "rows": manifest["data"]["rows"], "unique": manifest["data"]["unique"],
            "train": manifest["data"]["train"],
            "roc_auc": manifest["validation"]["roc_auc"],
            "average_precision": manifest["validation"]["average_precision"]}


def _phases(data_dir, out_dir) -> dict:
    """The phase timers of :mod:`benchmarks.training_phases` at one size."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLINE_SIEVE_")}
    done = subprocess.run([sys.executable, "-m", "benchmarks.training_phases", str(data_dir),
                           str(out_dir)], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"phase timing failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _exponent(points: list[dict], key: str) -> float | None:
    """Slope of log(key) against log(training rows): the growth exponent."""
    if len(points) < 2:
        return None
    x = np.log([p["train"] for p in points])
    y = np.log([p[key] for p in points])
    return round(float(np.polyfit(x, y, 1)[0]), 2)


def run(config: BenchConfig) -> dict:
    sizes = config.sizes
    points = []
    for factor in sizes.training_scale:
        fraction = min(factor, 1.0) * sizes.training_base
        copies = max(int(round(factor)), 1)
        work = config.work_dir / f"train-x{factor:g}"
        if fraction == 1.0 and copies == 1:
            data_dir = config.data_dir
        else:
            data_dir = scaled_corpora(config.data_dir, work / "data", fraction, copies)
        point = {"factor": factor, "corpora_fraction": fraction, "copies": copies,
                 "scaling": "repetition with suffix" if copies > 1 else
                 "subset" if fraction < 1 else "full corpora",
                 **_train(data_dir, work / "model")}
        log.info("training at %gx: %s", factor, point)
        points.append(point)
        shutil.rmtree(work, ignore_errors=True)
    base = (config.data_dir if sizes.training_base == 1.0 else
            scaled_corpora(config.data_dir, config.work_dir / "phases-data", sizes.training_base))
    return {"points": points, "time_exponent": _exponent(points, "wall_seconds"),
            "memory_exponent": _exponent(points, "peak_rss_mb"),
            "phases_at_1x": _phases(base, config.work_dir / "phases-model")}
