"""The ratings database schema, versioned with SQLite's PRAGMA user_version.

    from reasoningrec.ratings.schema import migrate, SCHEMA_VERSION, VOTE_COLUMNS
    migrate(conn)          # brings any older database up to SCHEMA_VERSION, in one transaction

Each entry of MIGRATIONS takes the database from version n to n+1 and is never edited once
shipped: a change is a new entry. A database newer than this code is refused (an old app must
not write rows a newer schema would misread).

Tables: `votes` (one row a vote, with everything the rater was shown: per side the role
(teacher, authors, student or check), the model, its version and the text) and `explanations`
(student texts the app generated for ratings before the pool stored them; no longer written).
"""
from __future__ import annotations

import sqlite3

CRITERIA = ("plausibility", "faithfulness", "helpfulness")
CHOICES = ("A", "B", "tie", "both_bad")
MODES = ("blind", "attention")


def _side(s: str) -> str:
    scores = ",\n".join(f"  {c}_{s} INTEGER NOT NULL CHECK ({c}_{s} BETWEEN 1 AND 5)"
                        for c in CRITERIA)
    return (f"  role_{s} TEXT NOT NULL,\n  system_{s} TEXT NOT NULL,\n  version_{s} TEXT NOT NULL,\n"
            f"  prediction_{s} TEXT NOT NULL CHECK (prediction_{s} IN ('Yes','No')),\n"
            f"  p_yes_{s} REAL,\n  text_{s} TEXT NOT NULL,\n{scores},\n")


V1 = f"""
CREATE TABLE votes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  vote_id TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  rater_id TEXT NOT NULL,
  rater_kind TEXT NOT NULL CHECK (rater_kind IN ('hf','anon')),
  ip_hash TEXT,
  sample_id TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN {MODES}),
  choice TEXT NOT NULL CHECK (choice IN {CHOICES}),
  swapped INTEGER NOT NULL CHECK (swapped IN (0,1)),
{_side("a")}{_side("b")}  reading_s REAL NOT NULL,
  min_read_s REAL NOT NULL,
  attention_failed INTEGER CHECK (attention_failed IN (0,1)),
  app_version TEXT NOT NULL,
  UNIQUE (rater_id, sample_id, mode)
);
CREATE TABLE explanations (
  sample_id TEXT NOT NULL,
  system TEXT NOT NULL,
  version TEXT NOT NULL,
  prediction TEXT NOT NULL CHECK (prediction IN ('Yes','No')),
  p_yes REAL,
  text TEXT NOT NULL,
  seconds REAL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (sample_id, system, version)
);
"""

# v2: where a vote came from (the page or the API), and the index the rate limit reads.
V2 = """
ALTER TABLE votes ADD COLUMN channel TEXT NOT NULL DEFAULT 'ui' CHECK (channel IN ('ui','api'));
CREATE INDEX votes_by_rater_time ON votes (rater_id, created_at);
"""

MIGRATIONS = (V1, V2)
SCHEMA_VERSION = len(MIGRATIONS)

VOTE_COLUMNS = (
    ["vote_id", "created_at", "rater_id", "rater_kind", "ip_hash", "sample_id", "mode", "choice",
     "swapped"]
    + [f"{field}_{s}" for s in "ab"
       for field in ("role", "system", "version", "prediction", "p_yes", "text", *CRITERIA)]
    + ["reading_s", "min_read_s", "attention_failed", "app_version", "channel"])


class SchemaError(RuntimeError):
    """The database cannot be used by this code (newer schema, or not a ratings database)."""


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, path: str = "") -> int:
    """Apply the missing migrations in one transaction; returns the version reached."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaError(f"{path or 'the ratings database'} has schema version {current}, newer "
                          f"than this code's {SCHEMA_VERSION}: update reasoningrec to read it")
    if current == SCHEMA_VERSION:
        return current
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)  # another process may have migrated meanwhile
        for version in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
