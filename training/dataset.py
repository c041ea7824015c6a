"""Build de-duplicated binary datasets from a recipe: the category corpora
(:func:`build_dataset`) and the policy-labelled files (:func:`build_policy`).

Duplicates are found on the *normalised* headline, before any split, so no
headline (nor its traditional-script or full-width twin) can fall in both the
training and the validation split.

Conflict rule: when one normalised headline carries both labels, the label
given by the majority of its occurrences wins; an exact tie is ambiguous and
the headline is left out. Both cases are counted in :class:`DatasetReport`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.normalize import normalize_many
from training.corpora import CorpusFile, Problem, Reads, read_corpus, read_label_references
from training.locations import DATASETS_DIR
from training.recipes import PolicyFile, Recipe

log = logging.getLogger(__name__)


@dataclass
class SourceFile:
    corpus: str
    path: str
    sha256: str
    rows: int
    malformed: int
    clickbait: int


@dataclass
class DatasetReport:
    files: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    duplicates: int = 0
    conflicts_resolved: int = 0
    conflicts_dropped: int = 0


@dataclass
class Dataset:
    """Unique headlines: ``texts`` (normalised), ``y`` (1 = clickbait) and
    ``categories`` (``corpus:category`` of the first occurrence with the
    winning label, e.g. ``thucnews:sports``)."""

    texts: list[str]
    y: np.ndarray
    categories: np.ndarray
    report: DatasetReport

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def corpus(self) -> np.ndarray:
        """The corpus family of each headline (``thucnews``, ``tnews``...)."""
        return np.asarray([c.partition(":")[0] for c in self.categories], dtype=object)

    def subset(self, index: np.ndarray) -> "Dataset":
        return Dataset([self.texts[i] for i in index], self.y[index], self.categories[index],
                       self.report)

    def without(self, texts: set[str]) -> "Dataset":
        """The headlines not in ``texts`` (normalised)."""
        return self.subset(np.asarray([i for i, t in enumerate(self.texts) if t not in texts],
                                      dtype=np.int64))

    def __add__(self, other: "Dataset") -> "Dataset":
        """Both datasets' rows, ``other``'s headlines taking precedence over equal ones."""
        mine = self.without(set(other.texts))
        return Dataset(mine.texts + other.texts, np.concatenate([mine.y, other.y]),
                       np.concatenate([mine.categories, other.categories]), self.report)


def deduplicate(texts: list[str], labels: list[int], categories: list[str],
                report: DatasetReport) -> Dataset:
    """Collapse equal normalised ``texts`` with the module's conflict rule
    (``labels``: 0 or 1 each)."""
    votes: dict[str, list[int]] = {}  # text -> [substantive, clickbait] occurrences
    first_category: dict[tuple[str, int], str] = {}
    for text, label, category in zip(texts, labels, categories):
        count = votes.get(text)
        if count is None:
            votes[text] = count = [0, 0]
        count[label] += 1
        first_category.setdefault((text, label), category)
    kept_texts, kept_y, kept_categories = [], [], []
    for text, (substantive, clickbait) in votes.items():
        if substantive and clickbait:
            if substantive == clickbait:
                report.conflicts_dropped += 1
                continue
            report.conflicts_resolved += 1
        label = int(clickbait > substantive)
        kept_texts.append(text)
        kept_y.append(label)
        kept_categories.append(first_category[(text, label)])
    report.duplicates = len(texts) - len(votes)
    return Dataset(kept_texts, np.asarray(kept_y, dtype=np.int64),
                   np.asarray(kept_categories, dtype=object), report)


def origin_part(origin: str, fallback: str) -> str:
    """The part of the policy data a headline belongs to: the folder of its
    ``origin`` (``examples/real_pages/x.html`` -> ``real_pages``,
    ``unlabeled/tnews_unlabeled.json`` -> ``unlabeled``), else ``fallback``."""
    if not origin:
        return fallback
    path = Path(origin)
    return path.parent.name or path.stem


def _record_file(report: DatasetReport, corpus: str, relative: str, read: CorpusFile,
                 labels: list[int]) -> None:
    """Add one file read (and its malformed rows, logged) to ``report``."""
    report.files.append(SourceFile(corpus, relative, read.sha256, len(read.rows),
                                   len(read.problems), sum(labels)))
    report.problems.extend(read.problems)
    for problem in read.problems:
        log.warning("skipped malformed row %s", problem)


def _read_policy_file(entry: PolicyFile | str, data_dir: Path, reads: Reads | None
                      ) -> CorpusFile:
    if isinstance(entry, str) or not entry.by_reference:
        return read_corpus("table", Path(data_dir) / getattr(entry, "path", entry), reads)
    return read_label_references(DATASETS_DIR / entry.path, data_dir, reads)


def build_policy(files: Sequence[PolicyFile | str], data_dir: Path,
                 report: DatasetReport | None = None, reads: Reads | None = None) -> Dataset:
    """Read policy-labelled files (tables with ``label``, ``headline``,
    ``origin``, or the project's label references); normalise and
    de-duplicate. ``categories`` holds each headline's part
    (:func:`origin_part`), so metrics can be reported per part. ``reads``:
    files already read (:func:`training.corpora.read_corpus`)."""
    report = report or DatasetReport()
    texts, labels, parts = [], [], []
    for entry in files:
        relative = getattr(entry, "path", entry)
        read = _read_policy_file(entry, data_dir, reads)
        file_labels = [int(row.category == "clickbait") for row in read.rows]
        _record_file(report, "policy", relative, read, file_labels)
        texts.extend(row.text for row in read.rows)
        labels.extend(file_labels)
        parts.extend(origin_part(row.origin, Path(relative).stem) for row in read.rows)
    report.rows += len(texts)
    return deduplicate(normalize_many(texts), labels, parts, report)


def build_dataset(recipe: Recipe, data_dir: Path, reads: Reads | None = None) -> Dataset:
    """Read every source of ``recipe`` under ``data_dir``; label, normalise,
    de-duplicate. ``reads``: as for :func:`build_policy`."""
    report = DatasetReport()
    texts: list[str] = []
    labels: list[int] = []
    categories: list[str] = []
    for source in recipe.sources:
        read = read_corpus(source.corpus, Path(data_dir) / source.path, reads)
        file_labels = [source.label(row.category) for row in read.rows]
        _record_file(report, source.corpus, source.path, read, file_labels)
        texts.extend(row.text for row in read.rows)
        labels.extend(file_labels)
        categories.extend(f"{source.corpus}:{row.category}" for row in read.rows)
    report.rows = len(texts)
    dataset = deduplicate(normalize_many(texts), labels, categories, report)
    log.info("%d rows read, %d duplicates, %d conflicts resolved, %d dropped, %d unique",
             report.rows, report.duplicates, report.conflicts_resolved,
             report.conflicts_dropped, len(dataset))
    return dataset
