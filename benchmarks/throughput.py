"""In-process scoring throughput on one core, by stage, against fastText.

Headlines come from ../shared/datasets/unlabeled/ (both files, in order).
Each measurement runs in a child process pinned to CPU 0 (``taskset``) with
OMP/OpenBLAS/MKL threads set to 1, and reports medians: over 300 different
one-headline calls, 50 different 100-headline batches, and repeated runs of
the 10,000-headline batch. fastText and the retrained model are timed in
the same process on the same headlines (fastText's tokenisation included),
each call in turn with ours on every input, so that their ratios to ours
share the machine's noise of the moment. With ``baseline``, the model package
of the commit before the vectorised path is timed the same way.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import io
from pathlib import Path

from benchmarks.config import BASELINE_COMMIT, BenchConfig
from training.locations import PROJECT_ROOT

log = logging.getLogger(__name__)

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def unlabeled_headlines(config: BenchConfig, n: int) -> list[str]:
    """The first ``n`` headlines of the unlabeled pool (both files, in order)."""
    headlines: list[str] = []
    for name in ("tnews_unlabeled.json", "tnews_unlabeled_2.json"):
        with open(config.unlabeled_path(name), encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    headlines.append(json.loads(line)["sentence"])
                if len(headlines) >= n:
                    return headlines
    return headlines


def _pinned_command(args: list[str]) -> tuple[list[str], bool]:
    taskset = shutil.which("taskset")
    return ([taskset, "-c", "0", *args], True) if taskset else (args, False)


def _run_worker(spec: dict, work_dir: Path, python_path: str, cwd: Path = PROJECT_ROOT) -> dict:
    spec_path = work_dir / f"throughput-{spec['mode']}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    command, pinned = _pinned_command([sys.executable, "-m", "benchmarks.throughput_worker",
                                       str(spec_path)])
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": python_path}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"throughput worker ({spec['mode']}) failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["pinned_to_cpu0"] = pinned
    return result


def _baseline_tree(work_dir: Path) -> Path:
    """The ``model`` package of :data:`BASELINE_COMMIT`, extracted under ``work_dir``."""
    target = work_dir / f"baseline-{BASELINE_COMMIT}"
    if not (target / "model").is_dir():
        archive = subprocess.run(["git", "archive", BASELINE_COMMIT, "model"], check=True,
                                 capture_output=True, cwd=PROJECT_ROOT).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target


def run(config: BenchConfig, fasttext_model: str | None) -> dict:
    sizes = config.sizes
    headlines = unlabeled_headlines(config, max(max(sizes.throughput_batches), 10_000
                                                if not config.quick else 300))
    headlines_path = config.work_dir / "throughput-headlines.json"
    headlines_path.write_text(json.dumps(headlines, ensure_ascii=False), encoding="utf-8")
    spec = {"headlines": str(headlines_path), "batches": list(sizes.throughput_batches),
            "repeats": sizes.throughput_repeats, "fasttext_model": fasttext_model}
    result = _run_worker({**spec, "mode": "current"}, config.work_dir, str(PROJECT_ROOT))
    result["headlines"] = len(headlines)
    if sizes.baseline:
        tree = _baseline_tree(config.work_dir)
        # ``python -m`` puts the working directory first on sys.path: run from the
        # extracted tree so ``import model`` is the old package, benchmarks from PYTHONPATH.
        baseline = _run_worker({**spec, "mode": "baseline", "fasttext_model": None},
                               config.work_dir, str(PROJECT_ROOT), cwd=tree)
        result["baseline"] = {"commit": BASELINE_COMMIT, "model_package": baseline["model_path"],
                              **baseline["model"]}
    else:
        result["baseline"] = {"skipped": "quick run: the pre-optimisation commit is timed "
                                         "only in the full run"}
    return result
