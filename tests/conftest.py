"""Shared database fixtures: every storage test runs on SQLite and on the real PostgreSQL.

- `db_url`: a fresh, migrated database for this test only (parametrized `sqlite` /
  `postgresql`). When the test also asks for `seeded_session` (or `seeded_db_url`), the
  database already holds the demo company.
- `engine`, `session`: on that database. `seeded_session`: a session on the seeded one.

Isolation is real, not a rollback trick: each test gets its own copy, so code that opens its
own sessions and commits (the API, the actions, the CLI) cannot leak rows into other tests.
Per session, one migrated template and one seeded template are built per backend; a test's
database is a file copy (SQLite) or `CREATE DATABASE ... TEMPLATE` (PostgreSQL, ~0.2 s).
PostgreSQL tests are skipped, with the reason, only when the server is unreachable.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crm_store import db, migrate
from crm_store.demo import seed

PG_ADMIN_DSN = os.environ.get("CRM_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PG_HOST_URL = os.environ.get("CRM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
SEEDED_FIXTURES = {"seeded_session", "seeded_db_url"}


@dataclass
class _Templates:
    """Lazily built template databases for one backend, for the whole test session."""

    kind: str
    workdir: Path
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    built: dict[str, str] = field(default_factory=dict)
    counter: int = 0
    # PostgreSQL only: the next clone of each template is made, and used ones are dropped,
    # in the background while the current test runs (each takes 0.2-2 s on a busy server).
    worker: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=1))
    ready: dict[bool, Future[str]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.workdir / f'{name}.sqlite3'}"
        return f"{PG_HOST_URL}/{name}"

    def template(self, seeded: bool) -> str:
        """The name of the migrated (and maybe seeded) template, built on first use."""
        key = "seeded" if seeded else "empty"
        if key not in self.built:
            name = f"crm_test_{self.run_id}_{key}"
            _create(self, name, None)
            url = self.url(name)
            migrate.upgrade(url)
            if seeded:
                with db.session_scope(url) as session:
                    seed(session)
            db.dispose_engine(url)  # a PostgreSQL template must have no open connections
            self.built[key] = name
        return self.built[key]

    def _new_clone(self, source: str) -> str:
        self.counter += 1
        name = f"crm_test_{self.run_id}_{self.counter}"
        _create(self, name, source)
        return self.url(name)

    def clone(self, seeded: bool) -> str:
        """A fresh copy of a template for one test; returns its URL."""
        source = self.template(seeded)
        if self.kind == "sqlite":
            return self._new_clone(source)
        pending = self.ready.pop(seeded, None)
        url = pending.result() if pending else self._new_clone(source)
        self.ready[seeded] = self.worker.submit(self._new_clone, source)
        return url

    def drop(self, url: str) -> None:
        db.dispose_engine(url)
        if self.kind == "sqlite":
            self._drop(url)
        else:
            self.worker.submit(self._drop, url)

    def _drop(self, url: str) -> None:
        if self.kind == "sqlite":
            path = Path(url.split("///", 1)[1])
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    def drop_all(self) -> None:
        for pending in self.ready.values():
            self.drop(pending.result())
        for name in self.built.values():
            self.drop(self.url(name))
        self.worker.shutdown(wait=True)


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


def _create(templates: _Templates, name: str, source: str | None) -> None:
    if templates.kind == "sqlite":
        if source is not None:
            shutil.copyfile(
                templates.workdir / f"{source}.sqlite3", templates.workdir / f"{name}.sqlite3"
            )
        return
    suffix = f' TEMPLATE "{source}"' if source else ""
    _pg_admin(f'CREATE DATABASE "{name}"{suffix}')


def _pg_unreachable_reason() -> str | None:
    try:
        _pg_admin("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL NOT REACHABLE at {PG_ADMIN_DSN} ({exc}); PostgreSQL tests SKIPPED"
    return None


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates("sqlite", tmp_path_factory.mktemp("crm-db"))
    yield templates
    templates.drop_all()


@pytest.fixture(scope="session")
def _pg_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates | str]:
    reason = _pg_unreachable_reason()
    if reason:
        yield reason
        return
    templates = _Templates("postgresql", tmp_path_factory.mktemp("crm-pg"))
    yield templates
    templates.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    """The backend of this test run: `sqlite` or `postgresql`."""
    return request.param


@pytest.fixture
def db_url(db_kind: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh migrated database URL for this test (seeded when the test uses seed fixtures)."""
    templates = request.getfixturevalue(f"_{'sqlite' if db_kind == 'sqlite' else 'pg'}_templates")
    if isinstance(templates, str):
        pytest.skip(templates)
    url = templates.clone(seeded=bool(SEEDED_FIXTURES & set(request.fixturenames)))
    yield url
    templates.drop(url)


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
