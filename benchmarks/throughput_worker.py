"""Inside the pinned process: time scoring by stage (run by :mod:`benchmarks.throughput`).

``python -m benchmarks.throughput_worker SPEC.json`` prints one JSON object.
SPEC has ``headlines`` (a JSON file of strings), ``batches``, ``repeats``,
``mode`` (``current``: this checkout's fast path and fastText; ``baseline``:
the pre-optimisation ``model`` package found first on PYTHONPATH) and
``fasttext_model`` (path or null). Imports of ``model`` happen after the
spec is read, so the baseline mode gets the old package.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

SINGLE_CALLS = 300  # different one-headline calls timed for batch size 1
MEDIUM_BATCHES = 50  # different batches timed for sizes below 10,000


def batches_of(headlines: list[str], size: int, repeats: int) -> list[list[str]]:
    """The batches timed for one size: distinct ones while the data lasts,
    then the first batch again."""
    limit = SINGLE_CALLS if size == 1 else MEDIUM_BATCHES if size < 10_000 else repeats
    distinct = [headlines[i:i + size] for i in range(0, len(headlines) - size + 1, size)]
    chosen = distinct[:limit]
    while len(chosen) < max(limit, repeats):
        chosen.append(distinct[0])
    return chosen


def median_time(function: Callable, inputs: Sequence) -> float:
    """Median seconds of ``function(x)`` over ``inputs`` (one warm-up call first)."""
    function(inputs[0])
    times = []
    for x in inputs:
        started = time.perf_counter()
        function(x)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def interleaved_medians(functions: dict[str, Callable], inputs: Sequence) -> dict[str, float]:
    """Median seconds of each ``function(x)`` over ``inputs``, the functions
    timed in turn on each input (one warm-up call each first), so that ratios
    between them share the machine's noise of the moment instead of each
    taking its own stretch of it."""
    for function in functions.values():
        function(inputs[0])
    times: dict[str, list[float]] = {name: [] for name in functions}
    for x in inputs:
        for name, function in functions.items():
            started = time.perf_counter()
            function(x)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def staged_medians(stages: Callable[[object], dict[str, float]], inputs: Sequence) -> dict:
    """Median of each stage time over ``inputs``; ``stages(x)`` returns seconds by stage."""
    stages(inputs[0])
    runs = [stages(x) for x in inputs]
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


def _kernel_stages(classifier, cut, normalize_many):
    """Stage timer of the compiled kernel's path (model.kernel.log_odds)."""
    import numpy as np

    from model import kernel

    compiled = kernel._kernel_of(classifier)

    def stages(batch: list[str]) -> dict[str, float]:
        times = {}
        started = time.perf_counter()
        norm = normalize_many(batch)
        times["normalisation"] = time.perf_counter() - started
        started = time.perf_counter()
        joined = "\n".join(norm)
        lowered = joined.lower()
        times["join and lower-case"] = time.perf_counter() - started
        started = time.perf_counter()
        tokens = cut(lowered)
        times["segmentation"] = time.perf_counter() - started
        started = time.perf_counter()
        out = np.empty(len(norm))
        compiled.tables.log_odds(lowered, joined, tokens, len(norm), out)
        times["kernel (n-grams, phrases, TF-IDF, dot product)"] = time.perf_counter() - started
        started = time.perf_counter()
        kernel._kernel.logistic(out, compiled.intercept, *classifier._calibration())
        times["calibration"] = time.perf_counter() - started  # compiled, as p_clickbait does
        return times
    return stages


def _baseline_stages(classifier, normalize_many):
    """Stage timer of the scikit-learn path (FeatureUnion parts one by one)."""
    import scipy.sparse as sp

    def stages(batch: list[str]) -> dict[str, float]:
        times = {}
        started = time.perf_counter()
        norm = normalize_many(batch)
        times["normalisation"] = time.perf_counter() - started
        parts = []
        for name, transformer in classifier.features_.transformer_list:
            started = time.perf_counter()
            parts.append(transformer.transform(norm))
            times[f"vectorise_{name}"] = time.perf_counter() - started
        started = time.perf_counter()
        features = sp.hstack(parts).tocsr()
        times["assemble"] = time.perf_counter() - started
        started = time.perf_counter()
        classifier.p_clickbait_from_features(features)
        times["linear"] = time.perf_counter() - started
        return times
    return stages


def _rates(size: int, seconds: float) -> dict:
    return {"seconds": seconds, "headlines_per_second": size / seconds}


def measure_model(spec: dict, headlines: list[str], rivals: dict[str, Callable]) -> tuple:
    """Our model's rates, stages and first call; and the rates of each of
    ``rivals`` (name -> predict function), timed interleaved with ours."""
    from model.normalize import normalize_many
    from model.scoring import load_model

    model = load_model()
    started = time.perf_counter()
    model.predict_proba(headlines[:1])  # compiles the fast path (if any) and warms caches
    first_call = time.perf_counter() - started
    classifier = model.classifier
    if spec["mode"] == "current":
        from model import fast_features
        from model.features import _cut_function

        from model import kernel

        if kernel.log_odds(classifier, headlines[:2]) is None:
            raise RuntimeError("the compiled scoring kernel is not built: install with a C "
                               "compiler (make bench does)")
        compiled = fast_features.compiled(classifier.features_)
        stages = _kernel_stages(classifier, _cut_function(compiled.blocks[0].segmenter.backend),
                                normalize_many)
    else:
        stages = _baseline_stages(classifier, normalize_many)
    result = {"first_call_seconds": first_call, "by_batch": {}}
    rates: dict[str, dict] = {name: {} for name in rivals}
    for size in spec["batches"]:
        inputs = batches_of(headlines, size, spec["repeats"])
        medians = interleaved_medians({"ours": model.predict_proba, **rivals}, inputs)
        result["by_batch"][str(size)] = {
            "predict_proba": _rates(size, medians.pop("ours")),
            "score": _rates(size, median_time(model.score, inputs)),
            "stages": staged_medians(stages, inputs)}
        for name, seconds in medians.items():
            rates[name][str(size)] = _rates(size, seconds)
    return result, rates


ADAPTED_LABELS = 300


def adapted_model(headlines: list[str]):
    """The model a retrain would promote: the bundled model adapted to
    :data:`ADAPTED_LABELS` labels (the model's own answers with every tenth
    flipped; labels mode), headlines taken from the end of the pool."""
    from model.adaptation import adapt_to_labels
    from model.scoring import Model, load_model

    bundled = load_model()
    texts = headlines[-ADAPTED_LABELS:]
    labels = (bundled.predict_proba(texts) >= bundled.threshold).astype(int)
    labels[::10] = 1 - labels[::10]
    return Model(adapt_to_labels(bundled.classifier, texts, labels), bundled.manifest).warm()


def fasttext_predictors(spec: dict) -> dict[str, Callable]:
    """fastText's predict on raw headlines (rjieba tokens) and after our normalisation."""
    import fasttext

    from benchmarks.fasttext_baseline import tokenise
    from model.normalize import normalize_many

    model = fasttext.load_model(spec["fasttext_model"])

    def tokenise_predict(batch: list[str]):
        return model.predict(tokenise(batch), k=1)

    def normalise_tokenise_predict(batch: list[str]):
        return model.predict(tokenise(normalize_many(batch)), k=1)

    def stages(batch: list[str]) -> dict[str, float]:
        started = time.perf_counter()
        tokens = tokenise(batch)
        middle = time.perf_counter()
        model.predict(tokens, k=1)
        return {"tokenisation": middle - started, "predict": time.perf_counter() - middle}

    return {"tokenise_predict": tokenise_predict,
            "normalise_tokenise_predict": normalise_tokenise_predict, "stages": stages}


def main(argv: list[str]) -> int:
    spec = json.loads(open(argv[0], encoding="utf-8").read())
    with open(spec["headlines"], encoding="utf-8") as handle:
        headlines = json.load(handle)
    import model

    if spec["mode"] == "baseline" and hasattr(model, "fast_features"):
        raise RuntimeError(f"baseline mode imported the current model package {model.__file__}")
    package = os.path.relpath(model.__file__, Path(__file__).resolve().parents[1])
    rivals: dict[str, Callable] = {}
    fasttext = None
    if spec["mode"] == "current":
        rivals["adapted"] = adapted_model(headlines).predict_proba
        if spec.get("fasttext_model"):
            fasttext = fasttext_predictors(spec)
            rivals.update({name: fasttext[name] for name in ("tokenise_predict",
                                                             "normalise_tokenise_predict")})
    measured, rates = measure_model(spec, headlines, rivals)
    result = {"model": measured, "model_path": package}
    if "adapted" in rates:
        result["adapted"] = {"labels": ADAPTED_LABELS, "by_batch": {
            size: {"predict_proba": rate} for size, rate in rates["adapted"].items()}}
    if fasttext is not None:
        result["fasttext"] = {size: {
            "tokenise_predict": rates["tokenise_predict"][size],
            "normalise_tokenise_predict": rates["normalise_tokenise_predict"][size],
            "stages": staged_medians(fasttext["stages"],
                                     batches_of(headlines, int(size), spec["repeats"]))}
            for size in rates["tokenise_predict"]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
