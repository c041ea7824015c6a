"""Evaluate a loaded model on labelled files or on a recipe's validation split."""

from __future__ import annotations

from pathlib import Path

from model.normalize import normalize_many
from model.scoring import Model
from training.corpora import CorpusError, read_corpus
from training.dataset import DatasetReport, build_dataset, deduplicate
from training.evaluation import evaluate
from training.recipes import load_recipe
from training.splits import DEFAULT_SEED, DEFAULT_VALIDATION_FRACTION, split

# Clickbait categories of each corpus format under the project's label policy.
POLICY = {"table": {"clickbait"}, "thucnews": {"entertainment"},
          "tnews": {"news_entertainment", "news_story"}, "hancd": {"1"}}


def evaluate_files(model: Model, files: list[Path], reader: str) -> dict:
    """Metrics of ``model`` on the union of ``files`` (de-duplicated), per file too."""
    texts, labels, groups = [], [], []
    report = DatasetReport()
    for path in files:
        read = read_corpus(reader, path)
        report.problems.extend(read.problems)
        texts.extend(row.text for row in read.rows)
        labels.extend(int(row.category in POLICY[reader]) for row in read.rows)
        groups.extend([Path(path).name] * len(read.rows))
    if not texts:
        raise CorpusError("no labelled rows in the given files")
    data = deduplicate(normalize_many(texts), labels, groups, report)
    metrics = evaluate(data.y, model.predict_proba(data.texts), model.threshold, data.corpus)
    metrics["malformed_rows"] = len(report.problems)
    return metrics


def evaluate_recipe(model: Model, recipe: str, data_dir: Path,
                    seed: int = DEFAULT_SEED,
                    fraction: float = DEFAULT_VALIDATION_FRACTION) -> dict:
    """Metrics of ``model`` on the recipe's validation split (same split as training)."""
    _, valid = split(build_dataset(load_recipe(recipe), data_dir), fraction, seed)
    return evaluate(valid.y, model.predict_proba(valid.texts), model.threshold, valid.corpus)
