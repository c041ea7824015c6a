"""The benchmark code runs end to end on a tiny input (``python -m benchmarks --quick``).

No timing is asserted here: figures depend on the machine, and the targets
are judged in the full run's report (make bench). This test only checks that
every section runs, that the report and the raw figures are written, that
the report names every target, and that each section measures what the full
run measures, only on less data (the same data roles, stages and phases).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks import training_phases as tp

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("quality", "throughput", "http", "training_scale", "retrain", "learning_curve",
            "sidebar", "archive", "stores")


def test_quick_benchmark_runs_every_section(tmp_path):
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=800)
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["quick"] is True
    assert set(results["sections"]) == set(SECTIONS)
    for name, section in results["sections"].items():
        assert "error" not in section, (name, section)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert report.rstrip("\n") == done.stdout.rstrip("\n")  # printed = written
    assert (tmp_path / "training_scale.png").stat().st_size > 0
    for heading in ("## Machine", "## Targets", "## Quality", "## In-process throughput",
                    "## HTTP", "## Retraining from labels", "## Training time and memory"):
        assert heading in report
    for target in ("policy dev ROC-AUC >= fastText's", "policy dev average precision >= "
                   "fastText's", "ROC-AUC >= 0.93 overall", ">= 0.90 on real-page links",
                   "precision >= 0.90 at the stored threshold",
                   "recall >= 0.75 at the stored threshold", "category validation ROC-AUC >= 0.93",
                   "THUCNews", "50,000 headlines/s",
                   "batch of 1 >= 0.5x fastText (its tokenisation included; bundled and "
                   "retrained model)", "batch of 100 >= 1x fastText", "80% of /healthz",
                   "p99 < 20 ms", "< 300 MB", "< 60 s wall, incl. the refit",
                   "time exponent <= 1.1", "< 3 GB", "model.joblib < 25 MB", "labels < 30 s"):
        assert target in report, target
    assert_measures_what_the_full_run_measures(results["sections"])


def assert_measures_what_the_full_run_measures(sections: dict) -> None:
    assert_quality_on_the_policy_set(sections["quality"]["binary"])
    by_batch = sections["throughput"]["model"]["by_batch"]
    assert set(by_batch) == set(sections["throughput"]["fasttext"])
    assert set(sections["throughput"]["adapted"]["by_batch"]) == set(by_batch)
    for size, entry in by_batch.items():  # the compiled kernel's stages (make test builds it)
        assert {"normalisation", "segmentation", "kernel (n-grams, phrases, TF-IDF, dot product)",
                "calibration"} <= set(entry["stages"]), size
    for name in ("healthz", "score_1", "score_100"):
        assert sections["http"]["runs"][name], name
    assert_training_scale(sections["training_scale"])
    assert [r["labels_stored"] for r in sections["retrain"]["runs"]] == sorted(
        r["labels_stored"] for r in sections["retrain"]["runs"])


def assert_quality_on_the_policy_set(binary: dict) -> None:
    """Both models on the same held-out policy rows, per part; ours also on the
    category validation split; fastText tuned on a validation part."""
    ours, fasttext = binary["ours"], binary["fasttext"]
    assert set(ours["per_source"]) == set(fasttext["per_source"]) == {"real_pages", "unlabeled"}
    assert ours["n"] == fasttext["n"] == binary["test"]
    assert ours["clickbait"] == fasttext["clickbait"]
    assert sum(part["n"] for part in ours["per_source"].values()) == binary["test"]
    assert binary["topic_prior"] > binary["train"] > 0
    assert ours["cross_fitted"]["n"] == binary["train"]
    assert ours["categories"]["n"] == binary["category_validation"]
    assert ours["categories"]["roc_auc"] is not None
    assert {"thucnews", "tnews", "toutiao", "hancd"} <= set(ours["categories"]["per_source"])
    assert fasttext["grid"], "fastText was tuned on a validation part"


def assert_training_scale(scale: dict) -> None:
    """Every point trained on scaled policy rows and corpora and was measured on
    the whole (unscaled) held-out policy set; the phases cover both fits."""
    points = scale["points"]
    assert {p["scaling"] for p in points} == {"subset", "repetition with suffix"}
    assert len({p["held_out"] for p in points}) == 1
    for p in points:
        assert p["policy_train"] > 0 and p["categories_train"] > 0, p
        assert p["artifact_mb"] > 0 and p["roc_auc"] is not None, p
    smaller, larger = sorted(points, key=lambda p: p["factor"])[:2]
    assert larger["rows"] > smaller["rows"] and larger["train"] > smaller["train"]
    phases = scale["phases_at_1x"]["phases"]
    assert {tp.READ, tp.FEATURES, tp.TOPIC_PRIOR, tp.REGRESSIONS, tp.SCORING, tp.SAVE,
            tp.OTHER} == set(phases)
    assert phases[tp.READ]["calls"] == phases[tp.SAVE]["calls"] == 1
    assert phases[tp.FEATURES]["calls"] == phases[tp.TOPIC_PRIOR]["calls"] == 2  # + the refit
    assert phases[tp.REGRESSIONS]["calls"] == 2  # folds + full in one call per fit
