"""Benchmarks of headline-sieve against fastText: quality, speed, memory (issue 5).

``python -m benchmarks`` (``make bench``) runs every section and writes
``benchmarks/results/report.md``, ``results.json`` and the training-scale
plot; ``--quick`` runs the same code on a few hundred headlines (the test
suite uses it). One module per concern:

- :mod:`benchmarks.quality`: ROC-AUC, AP, precision/recall on the held-out policy
  set per part, against fastText; the category validation split; THUCNews 10 classes.
- :mod:`benchmarks.throughput`: in-process headlines/s on one core, by stage.
- :mod:`benchmarks.http_load`: wrk against ``headline-sieve serve``.
- :mod:`benchmarks.training_scale`: training time, memory and artifact size vs data
  size, and where one training's time goes (:mod:`benchmarks.training_phases`).
- :mod:`benchmarks.retrain`: POST /v1/retrain to promotion.
- :mod:`benchmarks.report`: the Markdown report, targets met or missed.
"""
