"""Training time, peak memory and artifact size of the default recipe against data size.

Each point runs ``headline-sieve train --recipe default --data-dir D --out
M`` in a child process on a scaled copy of the recipe's files
(:mod:`benchmarks.corpora`: 25% and 50% are random subsets of every corpus
and policy table; 2x and 4x repeat every row with a suffix so
de-duplication keeps the copies; the quick run scales a 2% subset the same
way; the held-out policy set is copied unscaled). A run includes both fits
of ``train_recipe``: the held-out one, measured, and the refit on
everything that is saved. Wall time is measured around the command
(interpreter start included); peak memory is the largest resident set of
the process tree, sampled every 50 ms with psutil. The manifest's own
``training_seconds`` (data, both fits and evaluation, without start-up and
saving), its held-out policy figures (the same 792 headlines at every
scale) and the saved artifact's size are reported too. The 1x point runs
through :mod:`benchmarks.training_phases` (the same ``train_recipe`` with
timers around its phases), so one run gives both its figures and where its
time goes (in the quick run, which has no 1x point, a run at the base size
stands in).
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


def _child(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``: (wall seconds, peak RSS of its process tree in MB, stdout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLINE_SIEVE_")}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, cwd=PROJECT_ROOT)
    with PeakMemory(process.pid) as memory:
        stdout, stderr = process.communicate(timeout=3600)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{command[1:3]} failed ({process.returncode}):\n"
                           f"{stderr.decode()[-2000:]}")
    return wall, memory.peak_bytes / 2**20, stdout.decode()


def _point(wall: float, peak_mb: float, out_dir) -> dict:
    """One size's figures: the measured ones and the manifest's (rows read,
    training rows of the held-out fit, held-out policy figures, artifact size)."""
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    data, policy = manifest["data"], manifest["held_out"]["policy"]
    return {"wall_seconds": round(wall, 2), "peak_rss_mb": round(peak_mb, 1),
            "training_seconds": manifest["training_seconds"],
            "rows": data["categories"]["rows"] + data["policy"]["rows"],
            "policy_malformed": data["policy"]["malformed"],
            "policy_train": data["policy_train"], "categories_train": data["categories_train"],
            "train": data["policy_train"] + data["categories_train"],
            "held_out": data["policy_held_out"],
            "roc_auc": policy["roc_auc"], "average_precision": policy["average_precision"],
            "precision": policy["precision"], "recall": policy["recall"],
            "artifact_mb": round(manifest["artifact_bytes"] / 2**20, 2)}


def _train(data_dir, out_dir) -> dict:
    """``headline-sieve train`` at one size."""
    wall, peak, _ = _child([*cli(), "train", "--recipe", "default", "--data-dir", str(data_dir),
                            "--out", str(out_dir)])
    return _point(wall, peak, out_dir)


def _train_with_phases(data_dir, out_dir) -> dict:
    """The same training with the phase timers of :mod:`benchmarks.training_phases`
    (the 1x point: one run gives its figures and its profile): the profile,
    with the run's figures (:func:`_point`) under ``figures``."""
    wall, peak, stdout = _child([sys.executable, "-m", "benchmarks.training_phases",
                                 str(data_dir), str(out_dir)])
    return {**json.loads(stdout.strip().splitlines()[-1]),
            "figures": _point(wall, peak, out_dir)}


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
    phases = None
    for factor in sizes.training_scale:
        fraction = min(factor, 1.0) * sizes.training_base
        copies = max(int(round(factor)), 1)
        work = config.work_dir / f"train-x{factor:g}"
        if fraction == 1.0 and copies == 1:
            data_dir = config.data_dir
        else:
            data_dir = scaled_corpora(config.data_dir, work / "data", fraction, copies)
        if factor == 1.0:
            phases = _train_with_phases(data_dir, work / "model")
            figures = phases["figures"]
        else:
            figures = _train(data_dir, work / "model")
        point = {"factor": factor, "corpora_fraction": fraction, "copies": copies,
                 "scaling": "repetition with suffix" if copies > 1 else
                 "subset" if fraction < 1 else "full corpora", **figures}
        log.info("training at %gx: %s", factor, point)
        points.append(point)
        shutil.rmtree(work, ignore_errors=True)
    if phases is None:  # no 1x point (quick run): time the phases at the base size
        data_dir = scaled_corpora(config.data_dir, config.work_dir / "phases-data",
                                  sizes.training_base)
        phases = _train_with_phases(data_dir, config.work_dir / "phases-model")
    return {"points": points, "time_exponent": _exponent(points, "wall_seconds"),
            "memory_exponent": _exponent(points, "peak_rss_mb"), "phases_at_1x": phases}
