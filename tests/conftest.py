"""Shared database fixtures: every storage test runs on SQLite and on the real PostgreSQL.

- `db_url`: a migrated database that belongs to this test alone (parametrized `sqlite` /
  `postgresql`). When the test also asks for `seeded_session` (or `seeded_db_url`), it
  already holds the demo company, committed.
- `engine`, `session`: on that database. `seeded_session`: a session on the seeded one.

Isolation is real, not a rollback trick, so code that opens its own sessions and commits (the
API, the actions, the CLI) cannot leak rows into other tests:
- SQLite: each test gets a file copy of a migrated (or seeded) template built once.
- PostgreSQL: `CREATE DATABASE` costs 0.2-5 s on a busy server, so databases are pooled.
  After a test, its database is reset to the template's rows (delete everything, re-insert
  the snapshot taken after seeding, reset the sequences) and handed to the next test.
  PostgreSQL tests are skipped, with the reason, only when the server is unreachable.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from crm_store import db, migrate
from crm_store.demo import seed
from crm_store.models import Base

PG_ADMIN_DSN = os.environ.get("CRM_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PG_HOST_URL = os.environ.get("CRM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
SEEDED_FIXTURES = {"seeded_session", "seeded_db_url"}


def _pg_admin(sql: str, params: tuple[Any, ...] = ()) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql, params)


def _pg_unreachable_reason() -> str | None:
    try:
        _pg_admin("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL NOT REACHABLE at {PG_ADMIN_DSN} ({exc}); PostgreSQL tests SKIPPED"
    return None


def _snapshot(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every model table, for resetting pooled databases."""
    with db.get_engine(url).connect() as conn:
        return {
            table.name: [dict(row._mapping) for row in conn.execute(select(table))]
            for table in Base.metadata.sorted_tables
        }


@dataclass
class _Databases:
    """Per backend and per session: templates built on first use, and per-test databases."""

    kind: str
    workdir: Path
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    templates: dict[bool, str] = field(default_factory=dict)
    snapshots: dict[bool, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    pool: dict[bool, list[str]] = field(default_factory=lambda: {False: [], True: []})
    created: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.workdir / f'{name}.sqlite3'}"
        return f"{PG_HOST_URL}/{name}"

    def _create(self, source: str | None) -> str:
        name = f"crm_test_{self.run_id}_{len(self.created)}"
        if self.kind == "sqlite":
            if source:
                shutil.copyfile(
                    self.workdir / f"{source}.sqlite3", self.workdir / f"{name}.sqlite3"
                )
        else:
            _pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{source}"' if source else ""))
            # Test data need not survive a crash: skip the fsync wait on every commit.
            _pg_admin(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        self.created.append(name)
        return name

    def template(self, seeded: bool) -> str:
        """The migrated (and maybe seeded) template, built on first use."""
        if seeded not in self.templates:
            name = self._create(None)
            url = self.url(name)
            migrate.upgrade(url)
            if seeded:
                with db.session_scope(url) as session:
                    seed(session)
            self.snapshots[seeded] = _snapshot(url)
            db.dispose_engine(url)  # a PostgreSQL template must have no open connections
            self.templates[seeded] = name
        return self.templates[seeded]

    def acquire(self, seeded: bool) -> str:
        """A database in the template's state, for one test; returns its URL."""
        source = self.template(seeded)
        if self.pool[seeded]:
            return self.url(self.pool[seeded].pop())
        return self.url(self._create(source))

    def release(self, url: str, seeded: bool) -> None:
        """After a test: SQLite files are deleted; PostgreSQL databases reset and pooled."""
        db.dispose_engine(url)
        name = url.rsplit("/", 1)[1].removesuffix(".sqlite3")
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{url.split('///', 1)[1]}{suffix}").unlink(missing_ok=True)
            return
        try:
            self._reset(url, name, seeded)
        except Exception:  # noqa: BLE001 - a database we cannot reset is simply not reused
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        self.pool[seeded].append(name)

    def _reset(self, url: str, name: str, seeded: bool) -> None:
        # Connections a test leaked (e.g. an app's own engine) would block TRUNCATE.
        _pg_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        tables = Base.metadata.sorted_tables
        with db.get_engine(url).begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            # DELETE, not TRUNCATE: TRUNCATE swaps files, which waits on the disk; with
            # foreign-key triggers off (replica role) the users/contacts/accounts cycle and
            # the order of deletes do not matter.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(tables):
                conn.execute(table.delete())
            for table in tables:
                rows = self.snapshots[seeded].get(table.name)
                if rows:
                    conn.execute(table.insert(), rows)
                if "id" in table.c:
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f'COALESCE(MAX(id), 0) + 1, false) FROM "{table.name}"'
                    ))  # fmt: skip
        db.dispose_engine(url)

    def drop_all(self) -> None:
        for name in self.created:
            if self.kind == "sqlite":
                Path(self.workdir / f"{name}.sqlite3").unlink(missing_ok=True)
            else:
                db.dispose_engine(self.url(name))
                _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    databases = _Databases("sqlite", tmp_path_factory.mktemp("crm-db"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def _pg_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases | str]:
    reason = _pg_unreachable_reason()
    if reason:
        yield reason
        return
    databases = _Databases("postgresql", tmp_path_factory.mktemp("crm-pg"))
    yield databases
    databases.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    """The backend of this test run: `sqlite` or `postgresql`."""
    return request.param


@pytest.fixture
def db_url(db_kind: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database URL for this test alone (seeded when the test uses seed fixtures)."""
    databases = request.getfixturevalue(
        "_sqlite_databases" if db_kind == "sqlite" else "_pg_databases"
    )
    if isinstance(databases, str):
        pytest.skip(databases)
    seeded = bool(SEEDED_FIXTURES & set(request.fixturenames))
    url = databases.acquire(seeded)
    yield url
    databases.release(url, seeded)


@pytest.fixture
def seeded_db_url(db_url: str) -> str:
    """The URL of this test's database, holding the demo company."""
    return db_url


@pytest.fixture
def engine(db_url: str) -> Engine:
    """The (cached) engine of this test's database."""
    return db.get_engine(db_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on this test's database; uncommitted work is rolled back at the end."""
    with db.make_session_factory(engine)() as session:
        yield session
        session.rollback()


@pytest.fixture
def seeded_session(seeded_db_url: str, session: Session) -> Session:
    """A session on this test's database, which holds the demo company (already committed)."""
    return session
