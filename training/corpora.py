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
- ``table``: a user's own CSV, TSV or JSON-lines file with ``headline`` and
  ``label`` (``clickbait``/``substantive`` or ``1``/``0``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_HEADLINE_CHARS = 512


class CorpusError(Exception):
    """A corpus file cannot be read at all (missing, wrong format, no rows)."""


@dataclass(frozen=True)
class Row:
    text: str
    category: str
    line: int


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


def _add(out: CorpusFile, number: int, text, category) -> None:
    if not isinstance(text, str) or not text.strip():
        out.problems.append(Problem(str(out.path), number, "empty or missing headline"))
    elif len(text) > MAX_HEADLINE_CHARS:
        out.problems.append(Problem(str(out.path), number,
                                    f"headline longer than {MAX_HEADLINE_CHARS} characters"))
    elif category is None or str(category).strip() == "":
        out.problems.append(Problem(str(out.path), number, "missing label"))
    else:
        out.rows.append(Row(text.strip(), str(category).strip(), number))


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
    for number, line in _lines(path, data, out):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            out.problems.append(Problem(str(path), number, "not a JSON object"))
            continue
        if not isinstance(entry, dict):
            out.problems.append(Problem(str(path), number, "not a JSON object"))
            continue
        category = entry.get("label_desc") or names.get(str(entry.get("label")))
        if category is None and entry.get("label") is not None:
            out.problems.append(Problem(str(path), number, f"unknown label {entry['label']!r}"))
            continue
        _add(out, number, entry.get("sentence"), category)
    return out


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
        _add(out, number, entry.get("headline"), label)
    return out


READERS: dict[str, Callable[[Path], CorpusFile]] = {
    "thucnews": read_thucnews,
    "tnews": read_tnews,
    "hancd": read_hancd,
    "table": read_table,
}


def read_corpus(reader: str, path: Path) -> CorpusFile:
    """Read ``path`` with the named reader (one of :data:`READERS`)."""
    try:
        function = READERS[reader]
    except KeyError:
        raise CorpusError(f"unknown reader {reader!r}; choose one of {sorted(READERS)}") from None
    return function(Path(path))
