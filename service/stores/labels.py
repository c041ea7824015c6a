"""The label store: user corrections, durable before they are acknowledged.

Table ``labels`` of the database (:mod:`service.stores.database`: by default
``home/labels.sqlite3``, or PostgreSQL). A label is acknowledged only once its
transaction has committed (on SQLite with ``synchronous=FULL``, on PostgreSQL
with its default ``synchronous_commit``): durable. Every label sent is a new row, so
history is kept; the *current* label of a headline is the newest row (highest
``id``) among those with the same normalised headline
(:func:`model.normalize.normalize`), so a traditional-script or full-width
copy of a headline re-labels it.

A label may carry a ``client_id`` (the labelling page gives each label one):
sending the same ``client_id`` again stores nothing new and answers with the
first row's id, so a batch resent after a lost answer or a page reload is
stored exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from service.stores.database import Connection, Database, prepare_or_explain
from service.stores.storage import utc_now

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS labels (
    id {serial},
    normalized TEXT NOT NULL,
    headline TEXT NOT NULL,
    label TEXT NOT NULL CHECK (label IN ('substantive', 'clickbait')),
    source TEXT,
    token TEXT,
    created TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS labels_by_headline ON labels (normalized, id)",
)
_CLIENT_ID = ("ALTER TABLE labels ADD COLUMN client_id TEXT",
              "CREATE UNIQUE INDEX IF NOT EXISTS labels_by_client_id ON labels (client_id)")
_COLUMNS = "id, headline, normalized, label, source, token, created"
_CURRENT = (f"SELECT {_COLUMNS} FROM labels WHERE id IN "
            "(SELECT MAX(id) FROM labels GROUP BY normalized)")


@dataclass(frozen=True)
class NewLabel:
    """One label to store; ``normalized`` is :func:`model.normalize.normalize` of ``headline``."""

    headline: str
    normalized: str
    label: str
    source: str | None = None
    client_id: str | None = None


def _add_client_ids(db: Database, connection: Connection) -> None:
    """Migrate a store made before ``client_id`` existed (adds the column)."""
    if "client_id" not in db.columns(connection, "labels"):
        connection.execute(_CLIENT_ID[0])
    connection.execute(_CLIENT_ID[1])


class LabelStore:
    """Append-only labels with history; see the module docstring."""

    def __init__(self, db: Database, prepare: bool = True):
        self.db = db
        if prepare:  # create or migrate the table (False: the caller knows it is there)
            prepare_or_explain(db, "labels", _SCHEMA, migrate=_add_client_ids)

    def add(self, labels: Sequence[NewLabel], token: str | None) -> list[int]:
        """Store ``labels`` in one transaction (all or none); return their ids.

        When this returns, the rows are committed and durable.
        """
        created = utc_now("milliseconds")
        with self.db.transaction("labels") as connection:
            ids = []
            for item in labels:
                if item.client_id is not None:
                    known = connection.execute("SELECT id FROM labels WHERE client_id = ?",
                                               (item.client_id,)).fetchone()
                    if known is not None:
                        ids.append(int(known["id"]))
                        continue
                cursor = connection.execute(
                    "INSERT INTO labels (normalized, headline, label, source, token, created, "
                    "client_id) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (item.normalized, item.headline, item.label, item.source, token, created,
                     item.client_id))
                ids.append(int(cursor.fetchone()["id"]))
        return ids

    def page(self, since: int = 0, limit: int = 100) -> list[dict]:
        """Up to ``limit`` labels with ``id > since``, oldest first (history included)."""
        with self.db.connect() as connection:
            rows = connection.execute(f"SELECT {_COLUMNS} FROM labels WHERE id > ? "
                                      "ORDER BY id LIMIT ?", (since, limit)).fetchall()
        return [dict(row) for row in rows]

    def iter_all(self, current_only: bool = False, chunk: int = 1000) -> Iterator[dict]:
        """Every label (or only the current one per headline) in id order,
        read in chunks so memory stays flat and no read transaction stays open."""
        query = _CURRENT if current_only else f"SELECT {_COLUMNS} FROM labels WHERE TRUE"
        since = 0
        while True:
            with self.db.connect() as connection:
                rows = connection.execute(f"{query} AND id > ? ORDER BY id LIMIT ?",
                                          (since, chunk)).fetchall()
            if not rows:
                return
            for row in rows:
                yield dict(row)
            since = rows[-1]["id"]

    def current(self) -> list[dict]:
        """The newest label of every distinct normalised headline, in id order."""
        with self.db.connect() as connection:
            rows = connection.execute(f"{_CURRENT} ORDER BY id").fetchall()
        return [dict(row) for row in rows]

    def counts(self) -> tuple[int, int]:
        """(labels stored, distinct normalised headlines)."""
        with self.db.connect() as connection:
            row = connection.execute(
                "SELECT COUNT(*) AS n, COUNT(DISTINCT normalized) AS distinct_n FROM labels"
            ).fetchone()
        return int(row["n"]), int(row["distinct_n"])
