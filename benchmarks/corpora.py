"""Scaled copies of the default recipe's data files (for training-scale and quick runs).

A fraction below 1 keeps a random subset of each file's rows (seeded);
``copies`` k above 1 then writes every kept row k times; copy j > 1 of a headline gets
the suffix " (j)", so that de-duplication, which works on the normalised
headline, keeps the copies apart (the copies are near-duplicates: same
words, one more character n-gram). Formats are kept (THUCNews TSV, TNEWS
JSON lines, Toutiao ``headline_!_index`` lines, HanCD CSV, the policy tables'
TSV with their header), with the auxiliary files the readers need beside
each file (THUCNews' class.txt, TNEWS' labels.json).

The recipe's policy tables (policy_gold/train.tsv) are scaled like the
corpora; its evaluation files (policy_gold/dev.tsv) are copied unscaled, so
every scale is measured on the same held-out headlines. Its by-reference
label files (datasets/policy_labels/, in the repository) name a corpus file
and line: they are not copied, and a reference resolves only where the
scaled copy still holds the labelled headline on that line (the hash is
checked). With every row kept (the 2x and 4x points) the first copy is the
file in order, so references into the copied corpora resolve; in a subset
the lines have moved, and the unlabeled pool is not copied at all: those
references are skipped with warnings and counted as malformed rows of the
policy data (not fatal).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from training.recipes import load_recipe

# The file each reader needs beside the corpus file (training.corpora).
AUXILIARY = {"thucnews": "class.txt", "tnews": "labels.json"}
_TOUTIAO_SEPARATOR = "_!_"

Picked = Callable[[int], list[tuple[int, int]]]


def _pick(n_rows: int, fraction: float, copies: int, seed: int) -> list[tuple[int, int]]:
    """(row index, copy number) pairs: a random ``fraction`` of the rows, each
    ``copies`` times."""
    kept = np.arange(n_rows) if fraction >= 1 else np.sort(
        np.random.default_rng(seed).choice(n_rows, round(fraction * n_rows), replace=False))
    return [(int(i), copy) for copy in range(1, copies + 1) for i in kept]


def _suffixed(text: str, copy: int) -> str:
    return text if copy == 1 else f"{text} ({copy})"


def _thucnews_row(line: str, copy: int) -> str:
    text, _, index = line.rpartition("\t")
    return f"{_suffixed(text, copy)}\t{index}"


def _toutiao_row(line: str, copy: int) -> str:
    text, _, index = line.rpartition(_TOUTIAO_SEPARATOR)
    return f"{_suffixed(text, copy)}{_TOUTIAO_SEPARATOR}{index}"


def _tnews_row(line: str, copy: int) -> str:
    entry = json.loads(line)
    entry["sentence"] = _suffixed(entry["sentence"], copy)
    return json.dumps(entry, ensure_ascii=False)


LINE_EDITORS = {"thucnews": _thucnews_row, "toutiao": _toutiao_row, "tnews": _tnews_row}


def _scale_lines(source: Path, target: Path, picked: Picked,
                 edit: Callable[[str, int], str]) -> None:
    lines = [line for line in source.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    rows = [edit(lines[i], copy) for i, copy in picked(len(lines))]
    target.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _scale_records(source: Path, target: Path, picked: Picked, text_column: int,
                   delimiter: str = ",", header: bool = False) -> None:
    """A CSV/TSV file's records (its header kept), the headline in ``text_column``."""
    records = [r for r in csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"),
                                                 newline=""), delimiter=delimiter) if r]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header:
        writer.writerow(records.pop(0))
    for i, copy in picked(len(records)):
        record = list(records[i])
        record[text_column] = _suffixed(record[text_column], copy)
        writer.writerow(record)
    target.write_text(out.getvalue(), encoding="utf-8")


def _scale_policy_table(source: Path, target: Path, picked: Picked) -> None:
    """A policy table (TSV, header ``label, headline, origin``)."""
    with open(source, encoding="utf-8-sig", newline="") as handle:
        columns = next(csv.reader(handle, delimiter="\t"))
    _scale_records(source, target, picked, columns.index("headline"), "\t", header=True)


def _copy(source_dir: Path, target_dir: Path, relative: str) -> None:
    (target_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source_dir / relative, target_dir / relative)


def scaled_corpora(source_dir: Path, target_dir: Path, fraction: float = 1.0,
                   copies: int = 1, seed: int = 0) -> Path:
    """Write the default recipe's data files under ``target_dir``: a random
    ``fraction`` of each corpus' and policy table's rows, each row ``copies``
    times; the evaluation files as they are."""
    recipe = load_recipe("default")
    tables = [entry.path for entry in recipe.policy if not entry.by_reference]
    scaled = [(source.corpus, source.path) for source in recipe.sources] + [
        ("table", path) for path in tables]
    for number, (corpus, relative) in enumerate(scaled):
        target = target_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if corpus in AUXILIARY:
            _copy(source_dir, target_dir, str(Path(relative).with_name(AUXILIARY[corpus])))

        def picked(n_rows: int, file_seed: int = seed + number) -> list[tuple[int, int]]:
            return _pick(n_rows, fraction, copies, file_seed)

        if corpus == "hancd":
            _scale_records(source_dir / relative, target, picked, text_column=1)
        elif corpus == "table":
            _scale_policy_table(source_dir / relative, target, picked)
        else:
            _scale_lines(source_dir / relative, target, picked, LINE_EDITORS[corpus])
    for entry in recipe.evaluation_policy:
        if not entry.by_reference:
            _copy(source_dir, target_dir, entry.path)
    return target_dir
