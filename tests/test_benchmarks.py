"""The benchmark code runs end to end on a tiny input (``python -m benchmarks --quick``).

No timing is asserted here: figures depend on the machine, and the targets
are judged in the full run's report (make bench). This test only checks that
every section runs, that the report and the raw figures are written, and
that the report names every target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("quality", "throughput", "http", "training_scale", "retrain")


def test_quick_benchmark_runs_every_section(tmp_path):
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=280)
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
    for target in ("ROC-AUC", "average precision", "THUCNews", "50,000 headlines/s",
                   "fastText (its tokenisation included)", "70% of /healthz",
                   "p99 < 50 ms", "< 300 MB", "< 30 s", "< 60 s"):
        assert target in report, target
    assert_measures_what_the_full_run_measures(results["sections"])


def assert_measures_what_the_full_run_measures(sections: dict) -> None:
    binary = sections["quality"]["binary"]
    assert set(binary["ours"]["per_source"]) == set(binary["fasttext"]["per_source"])
    assert binary["fasttext"]["grid"], "fastText was tuned on a validation part"
    by_batch = sections["throughput"]["model"]["by_batch"]
    assert set(by_batch) == set(sections["throughput"]["fasttext"])
    for size, entry in by_batch.items():
        assert {"normalisation", "vectorise_word", "vectorise_char", "vectorise_style",
                "linear"} <= set(entry["stages"]), size
    for name in ("healthz", "score_1", "score_100"):
        assert sections["http"]["runs"][name], name
    scaling = {p["scaling"] for p in sections["training_scale"]["points"]}
    assert scaling == {"subset", "repetition with suffix"}
    assert [r["labels_stored"] for r in sections["retrain"]["runs"]] == sorted(
        r["labels_stored"] for r in sections["retrain"]["runs"])
