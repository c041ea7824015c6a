"""Bearer tokens for the write endpoints, stored as SHA-256 hashes only.

A token is 32 random bytes (URL-safe base64, prefixed ``hs_`` so it is
recognisable in a leaked file). The store keeps its SHA-256 and a name;
the token itself is shown once, by ``headline-sieve token create``.
Verification hashes the presented token and compares it with every stored
hash using :func:`hmac.compare_digest`, so the time taken does not depend on
how much of a hash matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path

from service.stores.storage import create_schema, database, transaction

TOKENS_FILE = "tokens.sqlite3"
TOKEN_PREFIX = "hs_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    created TEXT NOT NULL
)
"""


class TokenError(ValueError):
    """A token name is invalid, taken, or unknown."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenStore:
    """Named, hashed tokens in ``home/tokens.sqlite3``."""

    def __init__(self, home: Path):
        self.path = Path(home) / TOKENS_FILE
        Path(home).mkdir(parents=True, exist_ok=True)
        create_schema(self.path, _SCHEMA)

    def create(self, name: str) -> str:
        """Store a new token called ``name``; return the token (the only copy)."""
        if not NAME_PATTERN.match(name):
            raise TokenError(f"invalid token name {name!r}: use 1-64 letters, digits, "
                             "'.', '_', '@' or '-', starting with a letter or digit")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with database(self.path) as connection, transaction(connection, immediate=True):
            if connection.execute("SELECT 1 FROM tokens WHERE name = ?", (name,)).fetchone():
                raise TokenError(f"a token named {name!r} exists; revoke it first "
                                 f"('headline-sieve token revoke {name}') or pick another name")
            connection.execute("INSERT INTO tokens (name, sha256, created) VALUES (?, ?, ?)",
                               (name, _hash(token), created))
        return token

    def list(self) -> list[dict]:
        """Names and creation times (never hashes), sorted by name."""
        with database(self.path) as connection:
            rows = connection.execute("SELECT name, created FROM tokens ORDER BY name").fetchall()
        return [dict(row) for row in rows]

    def revoke(self, name: str) -> None:
        """Delete the token called ``name``; it stops working at once."""
        with database(self.path) as connection:
            deleted = connection.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount
        if not deleted:
            raise TokenError(f"no token named {name!r}; 'headline-sieve token list' shows them")

    def verify(self, token: str | None) -> str | None:
        """The name of the token equal to ``token``, or None."""
        if not token:
            return None
        digest = _hash(token)
        with database(self.path) as connection:
            rows = connection.execute("SELECT name, sha256 FROM tokens").fetchall()
        found = None
        for row in rows:  # no early exit: every stored hash is compared
            if hmac.compare_digest(digest, row["sha256"]):
                found = row["name"]
        return found
