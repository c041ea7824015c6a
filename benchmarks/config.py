"""What a benchmark run measures and where it writes (full run or ``--quick``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from training.locations import PROJECT_ROOT, data_dir

RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"


def shown_path(path: str | Path) -> str:
    """``path`` relative to the project root (``../shared/datasets``), as the
    results show it: no absolute path of the machine in the committed report."""
    import os

    return os.path.relpath(Path(path).resolve(), PROJECT_ROOT)
BASELINE_COMMIT = "c4b6941"  # last commit before the vectorised scoring path


@dataclass(frozen=True)
class Sizes:
    """Sizes of one run; the quick run keeps every section, only smaller."""

    throughput_batches: tuple[int, ...]
    throughput_repeats: int  # timed repetitions of the largest batch (medians)
    quality_train: int | None  # headlines of each split used (None: all)
    quality_test: int | None
    fasttext_grid: dict
    thucnews_c_grid: tuple[float, ...]
    http_concurrency: tuple[int, ...]
    http_seconds: int
    training_scale: tuple[float, ...]  # factors of the corpora (>1: repetition)
    training_base: float  # the corpora fraction that factor 1 stands for
    retrain_labels: tuple[int, ...]
    baseline: bool  # also time the pre-optimisation commit
    archive_headlines: int  # score-archive: the unlabeled pool, repeated to this many
    archive_partitions: int  # Parquet part files of the archive (one partition each)
    archive_repeats: int  # timed passes per cluster (medians)


FULL = Sizes(
    throughput_batches=(1, 100, 10_000), throughput_repeats=9,
    quality_train=None, quality_test=None,
    fasttext_grid={"wordNgrams": [1, 2], "lr": [0.1, 0.5, 1.0], "epoch": [5, 25],
                   "dim": [50, 100]},
    thucnews_c_grid=(1.0, 4.0, 16.0),
    http_concurrency=(1, 8, 32), http_seconds=5,
    training_scale=(0.25, 0.5, 1.0, 2.0, 4.0), training_base=1.0,
    retrain_labels=(1_000, 10_000), baseline=True,
    archive_headlines=200_000, archive_partitions=16, archive_repeats=3)

QUICK = Sizes(
    throughput_batches=(1, 100, 300), throughput_repeats=3,
    quality_train=400, quality_test=200,
    fasttext_grid={"wordNgrams": [1, 2], "lr": [0.5], "epoch": [5], "dim": [20]},
    thucnews_c_grid=(4.0,),
    http_concurrency=(8,), http_seconds=1,
    training_scale=(0.5, 2.0), training_base=0.02,
    retrain_labels=(40, 120), baseline=False,
    archive_headlines=3_000, archive_partitions=4, archive_repeats=2)


@dataclass(frozen=True)
class BenchConfig:
    quick: bool
    work_dir: Path  # scratch space (servers' homes, scaled corpora, models)
    results_dir: Path = RESULTS_DIR
    data_dir: Path = field(default_factory=data_dir)

    @property
    def sizes(self) -> Sizes:
        return QUICK if self.quick else FULL

    def unlabeled_path(self, name: str = "tnews_unlabeled.json") -> Path:
        return self.data_dir / "unlabeled" / name
