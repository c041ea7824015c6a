"""Readers for the labelled headline corpora.

Each reader takes a file path and returns a :class:`CorpusFile`: the rows it
could read as :class:`Row` (headline text as written, source category) and,
for every row it could not read, a :class:`Problem` with the line number.
A malformed row never stops the rest of the file from being read; a missing
or unreadable file raises :class:`CorpusError`.

Formats (see ../shared/datasets/README.md):

- ``thucnews``: ``headline<TAB>class_index``; class names in ``class.txt``
  beside the file, line N = index N.
- ``tnews``: JSON lines with ``sentence`` and ``label_desc`` (or ``label``,
  int or string, looked up in ``labels.json`` beside the file).
- ``hancd``: CSV without header: ``label,title,content,source``.
- ``pool``: JSON lines with ``sentence`` and no label (the unlabeled TNEWS
  pool); every row's category is ``unlabeled``.
- ``toutiao``: ``headline_!_index``, index 0..14 into :data:`TOUTIAO_CATEGORIES`
  (the Toutiao dataset TNEWS was drawn from, with TNEWS's category names).
- ``table``: CSV, TSV or JSON-lines with a ``headline`` and a ``label``
  (``clickbait``/``substantive`` or ``1``/``0``) column, and optionally
  ``origin`` (where the headline comes from; the policy files have it).
  Policy-labelled data (``policy_gold/*.tsv``) and users' own labels use it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_HEADLINE_CHARS = 512
log = logging.getLogger(__name__)


class CorpusError(Exception):
    """A corpus file cannot be read at all (missing, wrong format, no rows)."""


@dataclass(frozen=True)
class Row:
    text: str
    category: str
    line: int
    origin: str = ""


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class CorpusFile:
    path: Path
    sha256: str
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _read_bytes(path: Path) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file; check --data-dir or the path given")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from exc


def _read_text(path: Path) -> tuple[str, CorpusFile]:
    """The whole file decoded as UTF-8 (for CSV, whose records span lines)."""
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    return text, CorpusFile(path, hashlib.sha256(data).hexdigest())


def _lines(path: Path, data: bytes, out: CorpusFile) -> Iterator[tuple[int, str]]:
    """Decoded non-empty lines with 1-based numbers; bad UTF-8 is a problem."""
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            out.problems.append(Problem(str(path), number, "not valid UTF-8"))
            continue
        if line.strip():
            yield number, line


def _add(out: CorpusFile, number: int, text, category, origin: str = "") -> None:
    if not isinstance(text, str) or not text.strip():
        out.problems.append(Problem(str(out.path), number, "empty or missing headline"))
    elif len(text) > MAX_HEADLINE_CHARS:
        out.problems.append(Problem(str(out.path), number,
                                    f"headline longer than {MAX_HEADLINE_CHARS} characters"))
    elif category is None or str(category).strip() == "":
        out.problems.append(Problem(str(out.path), number, "missing label"))
    else:
        out.rows.append(Row(text.strip(), str(category).strip(), number, origin))


def read_thucnews(path: Path, classes_path: Path | None = None) -> CorpusFile:
    path = Path(path)
    classes_path = Path(classes_path) if classes_path else path.with_name("class.txt")
    classes = _read_bytes(classes_path).decode("utf-8").split()
    data = _read_bytes(path)
    out = CorpusFile(path, hashlib.sha256(data).hexdigest())
    for number, line in _lines(path, data, out):
        text, sep, index = line.rstrip("\r\n").rpartition("\t")
        if not sep or not index.strip().isdigit() or int(index) >= len(classes):
            out.problems.append(Problem(str(path), number,
                                        "expected 'headline<TAB>class_index' with a known index"))
            continue
        _add(out, number, text, classes[int(index)])
    return out


def read_tnews(path: Path, labels_path: Path | None = None) -> CorpusFile:
    path = Path(path)
    labels_path = Path(labels_path) if labels_path else path.with_name("labels.json")
    names: dict[str, str] = {}
    if labels_path.is_file():
        for line in labels_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                names[str(entry["label"])] = entry["label_desc"]
    data = _read_bytes(path)
    out = CorpusFile(path, hashlib.sha256(data).hexdigest())
    for number, entry in _json_objects(path, data, out):
        category = entry.get("label_desc") or names.get(str(entry.get("label")))
        if category is None and entry.get("label") is not None:
            out.problems.append(Problem(str(path), number, f"unknown label {entry['label']!r}"))
            continue
        _add(out, number, entry.get("sentence"), category)
    return out


def read_pool(path: Path) -> CorpusFile:
    path = Path(path)
    data = _read_bytes(path)
    out = CorpusFile(path, hashlib.sha256(data).hexdigest())
    for number, entry in _json_objects(path, data, out):
        _add(out, number, entry.get("sentence"), "unlabeled")
    return out


def _json_objects(path: Path, data: bytes, out: CorpusFile) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` per JSON-lines line; other lines are problems of ``out``."""
    for number, line in _lines(path, data, out):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            entry = None
        if not isinstance(entry, dict):
            out.problems.append(Problem(str(path), number, "not a JSON object"))
            continue
        yield number, entry


def read_hancd(path: Path) -> CorpusFile:
    path = Path(path)
    text, out = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.problems.append(Problem(str(path), reader.line_num, f"bad CSV: {exc}"))
            continue
        if not record:
            continue
        if len(record) < 2 or record[0].strip() not in ("0", "1"):
            out.problems.append(Problem(str(path), reader.line_num,
                                        "expected 'label,title,content,source' with label 0 or 1"))
            continue
        _add(out, reader.line_num, record[1], record[0].strip())
    return out


# Index -> category of the Toutiao headline dataset (its README's order; index 12,
# "stock" there, is TNEWS's news_stock).
TOUTIAO_CATEGORIES = (
    "news_story", "news_culture", "news_entertainment", "news_sports", "news_finance",
    "news_house", "news_car", "news_edu", "news_tech", "news_military", "news_travel",
    "news_world", "news_stock", "news_agriculture", "news_game")
_TOUTIAO_SEPARATOR = "_!_"


def read_toutiao(path: Path) -> CorpusFile:
    path = Path(path)
    data = _read_bytes(path)
    out = CorpusFile(path, hashlib.sha256(data).hexdigest())
    for number, line in _lines(path, data, out):
        text, sep, index = line.rstrip("\r\n").rpartition(_TOUTIAO_SEPARATOR)
        index = index.strip()
        if not sep or not index.isdigit() or int(index) >= len(TOUTIAO_CATEGORIES):
            out.problems.append(Problem(str(path), number,
                                        "expected 'headline_!_index' with an index 0..14"))
            continue
        _add(out, number, text, TOUTIAO_CATEGORIES[int(index)])
    return out


TABLE_LABELS = {"clickbait": "clickbait", "1": "clickbait",
                "substantive": "substantive", "0": "substantive"}


def _table_records(path: Path, text: str) -> Iterator[tuple[int, dict | None]]:
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                entry = None
            yield number, entry if isinstance(entry, dict) else None
        return
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if reader.fieldnames is None or not {"headline", "label"} <= set(reader.fieldnames):
        raise CorpusError(f"{path}: needs a header row with 'headline' and 'label' columns")
    for entry in reader:
        yield reader.line_num, entry


def read_table(path: Path) -> CorpusFile:
    """A user's labelled file: CSV/TSV with a header, or JSON lines."""
    path = Path(path)
    text, out = _read_text(path)
    for number, entry in _table_records(path, text):
        if entry is None:
            out.problems.append(Problem(str(path), number, "not a JSON object"))
            continue
        label = TABLE_LABELS.get(str(entry.get("label", "")).strip().lower())
        if label is None:
            out.problems.append(Problem(str(path), number,
                                        "label must be clickbait/substantive or 1/0"))
            continue
        origin = entry.get("origin")
        _add(out, number, entry.get("headline"), label,
             origin.strip() if isinstance(origin, str) else "")
    return out


# Readers of labelled files (the pool is the unlabelled TNEWS headlines).
UNLABELLED_READERS = ("pool",)
READERS: dict[str, Callable[[Path], CorpusFile]] = {
    "thucnews": read_thucnews,
    "tnews": read_tnews,
    "hancd": read_hancd,
    "toutiao": read_toutiao,
    "pool": read_pool,
    "table": read_table,
}


Reads = dict[tuple[str, Path], CorpusFile]


def read_corpus(reader: str, path: Path, reads: Reads | None = None) -> CorpusFile:
    """Read ``path`` with the named reader (one of :data:`READERS`).

    ``reads``, if given, keeps every file read (by reader and path) and
    answers a second read of the same file from memory: a recipe's label
    references point into the corpora its sources read anyway. Callers must
    not change what it returns.
    """
    try:
        function = READERS[reader]
    except KeyError:
        raise CorpusError(f"unknown reader {reader!r}; choose one of {sorted(READERS)}") from None
    if reads is None:
        return function(Path(path))
    key = (reader, Path(path))
    if key not in reads:
        reads[key] = function(Path(path))
    return reads[key]


REFERENCE_COLUMNS = ("label", "corpus", "path", "line", "sha256_8")


def read_label_references(path: Path, data_dir: Path, reads: Reads | None = None
                          ) -> CorpusFile:
    """A label file that names its headlines instead of copying them.

    TSV with the header ``label, corpus, path, line, sha256_8``: the label
    (clickbait/substantive) of the headline on ``line`` of ``data_dir/path``,
    read with reader ``corpus``; ``sha256_8`` (the first 8 hex digits of the
    SHA-256 of the normalised headline) checks that the line still holds the
    headline that was labelled. Each row's origin is ``path``. ``reads``: as
    for :func:`read_corpus`.
    """
    from model.normalize import normalize

    path = Path(path)
    text, out = _read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t")
    if reader.fieldnames is None or tuple(reader.fieldnames) != REFERENCE_COLUMNS:
        raise CorpusError(f"{path}: needs the header {' '.join(REFERENCE_COLUMNS)} (tab-separated)")
    corpora: dict[tuple[str, str], dict[int, Row]] = {}
    for entry in reader:
        number = reader.line_num
        label = TABLE_LABELS.get(str(entry["label"]).strip().lower())
        key = (entry["corpus"], entry["path"])
        if label is None or not str(entry["line"]).isdigit():
            out.problems.append(Problem(str(path), number, "needs a clickbait/substantive "
                                                           "label and a line number"))
            continue
        if key not in corpora:
            try:
                rows = read_corpus(key[0], Path(data_dir) / key[1], reads).rows
            except CorpusError as exc:  # e.g. a data dir without that file
                log.warning("%s: labels of %s skipped: %s", path, key[1], exc)
                rows = []
            corpora[key] = {r.line: r for r in rows}
        row = corpora[key].get(int(entry["line"]))
        if row is None:
            out.problems.append(Problem(str(path), number,
                                        f"no headline at {key[1]}:{entry['line']}"))
            continue
        digest = hashlib.sha256(normalize(row.text).encode("utf-8")).hexdigest()[:8]
        if digest != entry["sha256_8"]:
            out.problems.append(Problem(str(path), number, f"the headline at {key[1]}:"
                                        f"{entry['line']} is not the one labelled (hash)"))
            continue
        _add(out, number, row.text, label, key[1])
    return out
