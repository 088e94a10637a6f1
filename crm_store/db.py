"""Engines and sessions: one cached engine per database URL.

Every process reads `CRM_DATABASE_URL`; the default is a SQLite file under `var/`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = REPO_ROOT / "var" / "crm.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 15_000

_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}
_lock = threading.Lock()


def normalize_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain PostgreSQL URLs.

    SQLAlchemy would choose psycopg2 (not installed) for `postgresql://`.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url() -> str:
    """Return the configured database URL (`CRM_DATABASE_URL`, else the SQLite default)."""
    url = os.environ.get("CRM_DATABASE_URL", "").strip()
    return normalize_url(url) if url else f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers run while one writer writes; FKs are off by default in SQLite.
    # The driver's implicit transactions are kept on purpose: it begins only at the first
    # write, so a session that reads and then writes takes the write lock with a fresh
    # snapshot and waits its turn (busy_timeout). An explicit BEGIN at the first read would
    # make it fail at once when another process committed in between (WAL snapshots cannot
    # be upgraded), and BEGIN IMMEDIATE would make every reading session block writers.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    # pre_ping: a pooled connection killed by the server (restart, idle timeout) is replaced.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def get_engine(url: str | None = None) -> Engine:
    """Return the engine for `url` (default `database_url()`), created once per URL.

    Args:
        url: a SQLAlchemy URL; `postgresql://` is rewritten to use psycopg 3.

    Returns:
        A shared Engine; SQLite ones run in WAL mode with foreign keys enforced.
    """
    key = _key(url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _create_engine(key)
        return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def _key(url: str | None) -> str:
    return normalize_url(url) if url else database_url()


def _factory(url: str | None) -> sessionmaker[Session]:
    engine = get_engine(url)
    key = _key(url)
    with _lock:
        factory = _factories.get(key)
        if factory is None:
            factory = _factories[key] = make_session_factory(engine)
        return factory


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on any error.

    Example:
        with session_scope() as session:
            account = get_account(session=session, scope=scope, account_id=1)
    """
    session = _factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engine(url: str) -> None:
    """Close and forget the cached engine of one URL (before dropping that database)."""
    key = _key(url)
    with _lock:
        engine = _engines.pop(key, None)
        _factories.pop(key, None)
    if engine is not None:
        engine.dispose()


def dispose_engines() -> None:
    """Close every cached engine's pool (tests, forked workers)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _factories.clear()
