"""Scaled copies of the default recipe's corpora (for training-scale and quick runs).

A fraction below 1 keeps a random subset of each file's rows (seeded);
``copies`` k above 1 then writes every kept row k times; copy j > 1 of a headline gets
the suffix " (j)", so that de-duplication, which works on the normalised
headline, keeps the copies apart (the copies are near-duplicates: same
words, one more character n-gram). Formats are kept (THUCNews TSV, TNEWS
JSON lines, HanCD CSV), with the auxiliary files (class.txt, labels.json).
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

AUXILIARY = ("thucnews/class.txt", "tnews/labels.json")


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


def _tnews_row(line: str, copy: int) -> str:
    entry = json.loads(line)
    entry["sentence"] = _suffixed(entry["sentence"], copy)
    return json.dumps(entry, ensure_ascii=False)


def _scale_lines(source: Path, target: Path, picked: Callable[[int], list],
                 edit: Callable[[str, int], str]) -> None:
    lines = [line for line in source.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    rows = [edit(lines[i], copy) for i, copy in picked(len(lines))]
    target.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _scale_csv(source: Path, target: Path, picked: Callable[[int], list]) -> None:
    records = [r for r in csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"),
                                                 newline="")) if r]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    for i, copy in picked(len(records)):
        record = list(records[i])
        record[1] = _suffixed(record[1], copy)
        writer.writerow(record)
    target.write_text(out.getvalue(), encoding="utf-8")


def scaled_corpora(source_dir: Path, target_dir: Path, fraction: float = 1.0,
                   copies: int = 1, seed: int = 0) -> Path:
    """Write the default recipe's files under ``target_dir``: a random
    ``fraction`` of each file's rows, each row ``copies`` times."""
    for name in AUXILIARY:
        (target_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_dir / name, target_dir / name)
    for number, source in enumerate(load_recipe("default").sources):
        target = target_dir / source.path
        target.parent.mkdir(parents=True, exist_ok=True)

        def picked(n_rows: int, file_seed: int = seed + number) -> list[tuple[int, int]]:
            return _pick(n_rows, fraction, copies, file_seed)

        if source.corpus == "hancd":
            _scale_csv(source_dir / source.path, target, picked)
        else:
            edit = _thucnews_row if source.corpus == "thucnews" else _tnews_row
            _scale_lines(source_dir / source.path, target, picked, edit)
    return target_dir
