"""Backup and restore of the embedded SQLite store, consistent while the processes run.

Copying the file is not a backup: with WAL, recent commits live in `crm.sqlite3-wal` and a
copy taken mid-write is torn. SQLite's online backup API copies a consistent snapshot, and
restoring through the same API writes into the live database under its lock, so running
processes see either the old or the new data, never a half-written file. PostgreSQL has its
own tools (`pg_dump` / `pg_restore`); docs/deploy.md says how.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from crm_store import migrate
from crm_store.db import database_url, dispose_engine
from crm_store.errors import InvalidInputError

SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """What a backup holds: its schema revision and the number of rows per table."""

    path: Path
    revision: str | None
    rows: dict[str, int]


def sqlite_path(url: str | None = None) -> Path:
    """The database file behind a SQLite URL; other databases are refused with a hint."""
    parsed = make_url(url or database_url())
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise InvalidInputError(
            f"backup and restore handle the embedded SQLite store; {parsed.get_backend_name()} "
            "has its own tools (pg_dump / pg_restore, see docs/deploy.md)"
        )
    return Path(parsed.database)


def backup(dest: Path, url: str | None = None) -> SnapshotInfo:
    """Write a consistent snapshot of the store to `dest` (replaced atomically when done).

    Raises:
        InvalidInputError: not a SQLite store, no database file yet, or `dest` is the store.
    """
    source = sqlite_path(url)
    if not source.is_file():
        raise InvalidInputError(f"no database at {source}: nothing to back up")
    dest = dest.expanduser().resolve()
    if dest == source.resolve():
        raise InvalidInputError("the backup path is the live database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    with closing(_connect(source)) as src, closing(_connect(partial)) as out:
        src.backup(out)
        out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    info = inspect_snapshot(partial)
    os.replace(partial, dest)
    return SnapshotInfo(path=dest, revision=info.revision, rows=info.rows)


def restore(src: Path, url: str | None = None) -> SnapshotInfo:
    """Replace the store's contents with the snapshot at `src`, checked before anything changes.

    Raises:
        InvalidInputError: `src` is missing, not a SQLite file, damaged, or not a CRM store.
    """
    src = src.expanduser().resolve()
    info = inspect_snapshot(src)
    _check_known_revision(src, info.revision)
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    dispose_engine(url or database_url())  # pooled connections would keep the old pages
    with closing(_connect(src, readonly=True)) as snapshot, closing(_connect(target)) as live:
        snapshot.backup(live)
    dispose_engine(url or database_url())
    migrate.upgrade(url)  # an older snapshot is brought to this code's schema
    return SnapshotInfo(path=target, revision=info.revision, rows=info.rows)


def inspect_snapshot(path: Path) -> SnapshotInfo:
    """Check that `path` is an intact CRM store and count its rows.

    Raises:
        InvalidInputError: naming what is wrong with the file.
    """
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise InvalidInputError(f"{path}: not a SQLite database")
    try:
        with closing(_connect(path, readonly=True)) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise InvalidInputError(f"{path}: damaged database ({verdict})")
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )]  # fmt: skip
            if "alembic_version" not in tables:
                raise InvalidInputError(f"{path}: not a CRM store (no schema revision)")
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            rows = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    except sqlite3.DatabaseError as exc:
        raise InvalidInputError(f"{path}: unreadable database ({exc})") from exc
    return SnapshotInfo(path=path, revision=revision[0] if revision else None, rows=rows)


def _check_known_revision(path: Path, revision: str | None) -> None:
    """Refuse a snapshot from a newer release: this code could not read its schema."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    known = {rev.revision for rev in scripts.walk_revisions()}
    if revision is not None and revision not in known:
        raise InvalidInputError(
            f"{path}: schema revision {revision!r} is newer than this release knows"
        )


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    return sqlite3.connect(uri, uri=True, timeout=15)
