"""Bearer tokens for the write endpoints, stored as SHA-256 hashes only.

A token is 32 random bytes (URL-safe base64, prefixed ``hs_`` so it is
recognisable in a leaked file). The store keeps its SHA-256 and a name;
the token itself is shown once, by ``headline-sieve token create``.
Verification hashes the presented token and compares it with every stored
hash using :func:`hmac.compare_digest`, so the time taken does not depend on
how much of a hash matched.

Table ``tokens`` of the database (:mod:`service.stores.database`). Homes
made before tokens moved there kept them in ``home/tokens.sqlite3``; those
are copied over once, the first time the store opens on that home.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from pathlib import Path

from service.stores.database import Database, prepare_or_explain
from service.stores.storage import database, utc_now

log = logging.getLogger(__name__)

LEGACY_FILE = "tokens.sqlite3"
TOKEN_PREFIX = "hs_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

_SCHEMA = ("""CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    created TEXT NOT NULL
)""",)


class TokenError(ValueError):
    """A token name is invalid, taken, or unknown."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenStore:
    """Named, hashed tokens; ``home`` is where a legacy ``tokens.sqlite3`` may be."""

    def __init__(self, db: Database, home: Path | None = None, prepare: bool = True):
        self.db = db
        if not prepare:  # the caller knows the table is there
            return
        prepare_or_explain(db, "tokens", _SCHEMA)
        if home is not None and (Path(home) / LEGACY_FILE).is_file():
            self._import_legacy(Path(home) / LEGACY_FILE)

    def _import_legacy(self, path: Path) -> None:
        """Copy the tokens of a ``tokens.sqlite3`` into the database, then rename
        the file ``tokens.sqlite3.imported`` (kept, never read again)."""
        with database(path) as legacy:
            rows = legacy.execute("SELECT name, sha256, created FROM tokens").fetchall()
        with self.db.transaction("tokens") as connection:
            for row in rows:
                if not connection.execute("SELECT 1 FROM tokens WHERE name = ?",
                                          (row["name"],)).fetchone():
                    connection.execute("INSERT INTO tokens (name, sha256, created) "
                                       "VALUES (?, ?, ?)", tuple(row))
        path.replace(path.with_name(LEGACY_FILE + ".imported"))
        log.warning("copied %d token(s) from %s into %s", len(rows), path, self.db.describe())

    def create(self, name: str) -> str:
        """Store a new token called ``name``; return the token (the only copy)."""
        if not NAME_PATTERN.match(name):
            raise TokenError(f"invalid token name {name!r}: use 1-64 letters, digits, "
                             "'.', '_', '@' or '-', starting with a letter or digit")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created = utc_now()
        with self.db.transaction("tokens") as connection:
            if connection.execute("SELECT 1 FROM tokens WHERE name = ?", (name,)).fetchone():
                raise TokenError(f"a token named {name!r} exists; revoke it first "
                                 f"('headline-sieve token revoke {name}') or pick another name")
            connection.execute("INSERT INTO tokens (name, sha256, created) VALUES (?, ?, ?)",
                               (name, _hash(token), created))
        return token

    def list(self) -> list[dict]:
        """Names and creation times (never hashes), sorted by name."""
        with self.db.connect() as connection:
            rows = connection.execute("SELECT name, created FROM tokens ORDER BY name").fetchall()
        return [dict(row) for row in rows]

    def revoke(self, name: str) -> None:
        """Delete the token called ``name``; it stops working at once."""
        with self.db.transaction("tokens") as connection:
            deleted = connection.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount
        if not deleted:
            raise TokenError(f"no token named {name!r}; 'headline-sieve token list' shows them")

    def verify(self, token: str | None) -> str | None:
        """The name of the token equal to ``token``, or None."""
        if not token:
            return None
        digest = _hash(token)
        with self.db.connect() as connection:
            rows = connection.execute("SELECT name, sha256 FROM tokens").fetchall()
        found = None
        for row in rows:  # no early exit: every stored hash is compared
            if hmac.compare_digest(digest, row["sha256"]):
                found = row["name"]
        return found
