"""Pools of headlines to label: uploaded by an operator, or recently scored.

Table ``uploaded`` and ``scored`` in ``home/pools.sqlite3``. Scored headlines
are kept only when the ``store_scored`` setting is on (off by default: the
service does not keep the text it scores unless the operator says so); then
the newest :data:`SCORED_KEPT` are kept. The third pool, the corpora's
unlabeled headlines, is read from the data directory
(:func:`unlabeled_pool`).
"""

from __future__ import annotations

from pathlib import Path

from service.stores.storage import create_schema, database, transaction, utc_now

DATABASE_FILE = "pools.sqlite3"
POOLS = ("unlabeled", "uploaded", "scored")
SCORED_KEPT = 10_000
UNLABELED_FILES = ("unlabeled/tnews_unlabeled.json", "unlabeled/tnews_unlabeled_2.json")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploaded (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    headline TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scored (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    headline TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
);
"""


class PoolStore:
    """The uploaded and the scored pool of one home directory."""

    def __init__(self, home: Path):
        self.path = Path(home) / DATABASE_FILE
        create_schema(self.path, _SCHEMA)

    def add(self, pool: str, headlines: list[str]) -> int:
        """Add ``headlines`` to ``uploaded`` or ``scored`` (a headline already
        there is kept once); return how many were new."""
        if pool not in ("uploaded", "scored"):
            raise ValueError(f"no pool {pool!r} to add to")
        created = utc_now()
        with database(self.path) as connection, transaction(connection, immediate=True):
            before = connection.total_changes
            connection.executemany(f"INSERT OR IGNORE INTO {pool} (headline, created) "
                                   "VALUES (?, ?)", [(h, created) for h in headlines])
            added = connection.total_changes - before
            if pool == "scored":
                connection.execute("DELETE FROM scored WHERE id <= (SELECT MAX(id) FROM scored)"
                                   " - ?", (SCORED_KEPT,))
        return added

    def headlines(self, pool: str) -> list[str]:
        with database(self.path) as connection:
            rows = connection.execute(f"SELECT headline FROM {pool} ORDER BY id").fetchall()
        return [row[0] for row in rows]

    def count(self, pool: str) -> int:
        with database(self.path) as connection:
            return int(connection.execute(f"SELECT COUNT(*) FROM {pool}").fetchone()[0])


def unlabeled_pool(data_dir: Path) -> list[str] | None:
    """The corpora's unlabeled headlines (FewCLUE's TNEWS pool), None if absent."""
    from training.corpora import CorpusError, read_corpus

    headlines: list[str] = []
    for relative in UNLABELED_FILES:
        path = Path(data_dir) / relative
        if path.is_file():
            try:
                headlines += [row.text for row in read_corpus("pool", path).rows]
            except CorpusError:
                continue
    return list(dict.fromkeys(headlines)) or None
