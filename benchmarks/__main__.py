"""``python -m benchmarks [--quick] [--only SECTION ...]``: run, write, print the report.

Writes ``results.json`` (every figure), ``report.md`` and the training-scale
plot to ``benchmarks/results/`` (``--out`` to change), then prints the
report. A section that fails is recorded with its error and marked as a
missed target; the run goes on with the others and exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks import (archive, http_load, learning_curve, machine, quality, report, retrain,
                        sidebar, stores, throughput, training_scale)
from benchmarks.config import RESULTS_DIR, BenchConfig

SECTIONS = ("quality", "throughput", "http", "training_scale", "retrain", "learning_curve",
            "sidebar", "archive", "stores")
log = logging.getLogger("benchmarks")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="every section on a few hundred headlines (seconds, not minutes)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results directory")
    return parser


def _run_section(name: str, config: BenchConfig, results: dict) -> dict:
    sections = results["sections"]
    if name == "quality":
        return quality.run(config)
    if name == "throughput":
        fasttext_model = sections.get("quality", {}).get("binary", {}).get(
            "fasttext", {}).get("model_path")
        return throughput.run(config, fasttext_model)
    if name == "http":
        return http_load.run(config)
    if name == "training_scale":
        return training_scale.run(config)
    if name == "sidebar":
        return sidebar.run(config)
    if name == "learning_curve":
        return learning_curve.run(config)
    if name == "archive":
        return archive.run(config)
    if name == "stores":
        return stores.run(config)
    corpora = None
    if config.quick:  # no corpora: the server retrains from the labels alone (seconds)
        corpora = config.work_dir / "no-corpora"
        corpora.mkdir(exist_ok=True)
    return retrain.run(config, corpora)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        stream=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks" + (" --quick" if args.quick else "") + (
        f" --only {' '.join(args.only)}" if args.only else "")
    results = {"quick": args.quick, "command": command, "machine": machine.describe(),
               "sections": {}, "seconds": {}}
    failed = False
    with tempfile.TemporaryDirectory(prefix="headline-sieve-bench-") as work:
        config = BenchConfig(quick=args.quick, work_dir=Path(work), results_dir=args.out)
        for name in args.only or SECTIONS:
            log.info("section %s", name)
            started = time.perf_counter()
            try:
                results["sections"][name] = _run_section(name, config, results)
            except Exception as exc:  # noqa: BLE001 - recorded, reported, exit status 1
                failed = True
                log.error("section %s failed:\n%s", name, traceback.format_exc())
                results["sections"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            results["seconds"][name] = round(time.perf_counter() - started, 1)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    plot = None
    if "points" in results["sections"].get("training_scale", {}):
        plot = report.plot_training(results["sections"]["training_scale"],
                                    args.out / report.PLOT_NAME)
    (args.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1),
                                           encoding="utf-8")
    if "points" in results["sections"].get("learning_curve", {}):
        report.plot_learning_curve(results["sections"]["learning_curve"],
                                   args.out / report.LEARNING_PLOT_NAME)
    text = report.render(results, plot)
    (args.out / "report.md").write_text(text, encoding="utf-8")
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
