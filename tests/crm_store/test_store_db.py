"""Engine, session and timestamp behaviour on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from crm_store import db
from crm_store.models import Team


def test_database_url_default_and_rewrite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    assert db.database_url() == f"sqlite:///{db.DEFAULT_SQLITE_PATH}"
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql://u@h:5432/crm")
    assert db.database_url() == "postgresql+psycopg://u@h:5432/crm"
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql+psycopg://u@h/crm")
    assert db.database_url() == "postgresql+psycopg://u@h/crm"


def test_engine_is_cached_per_url(db_url: str) -> None:
    assert db.get_engine(db_url) is db.get_engine(db_url)


def test_backend_settings(engine: Engine, db_kind: str) -> None:
    with engine.connect() as conn:
        if db_kind == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS
        else:
            assert engine.dialect.driver == "psycopg"
            assert engine.pool._pre_ping  # reconnects after the server kills a connection
            assert conn.execute(text("select 1")).scalar() == 1


def test_session_scope_commits_and_rolls_back(db_url: str) -> None:
    with db.session_scope(db_url) as session:
        session.add(Team(name="kept"))
    with pytest.raises(RuntimeError), db.session_scope(db_url) as session:
        session.add(Team(name="lost"))
        session.flush()
        raise RuntimeError("boom")
    with db.session_scope(db_url) as session:
        assert list(session.scalars(select(Team.name))) == ["kept"]


def test_timestamps_come_back_aware_utc(session: Session) -> None:
    local = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    session.add(Team(name="t", created_at=local))
    session.commit()
    session.expire_all()
    stored = session.scalars(select(Team.created_at)).one()
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == local.astimezone(UTC)


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(Team(name="t", created_at=datetime(2026, 3, 1, 12, 0)))
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_foreign_keys_are_enforced(session: Session) -> None:
    from sqlalchemy.exc import IntegrityError

    from crm_store.models import Contact

    session.add(Contact(account_id=999_999, first_name="A", last_name="B"))
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)  # a server feature
def test_postgres_pool_survives_killed_connections(db_url: str) -> None:
    engine = db.get_engine(db_url)
    with engine.connect() as conn:
        pid = conn.execute(text("select pg_backend_pid()")).scalar()
    # Kill it from outside the pool, as a server restart or an idle timeout would.
    with psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("select pg_terminate_backend(%s)", (pid,))
    with db.session_scope(db_url) as session:  # the pooled, dead connection is replaced
        assert session.execute(text("select pg_backend_pid()")).scalar() != pid


def test_concurrent_read_then_write_transactions_both_succeed(db_url: str) -> None:
    """Two writers that each read first (as the API and the action server do) must not fail."""
    import contextlib
    import threading

    errors: list[BaseException] = []
    both_read = threading.Barrier(2, timeout=1)

    def work(name: str, pause: float) -> None:
        try:
            with db.session_scope(db_url) as session:
                session.scalars(select(Team)).all()
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_read.wait()  # broken when SQLite already serialised us: fine
                threading.Event().wait(pause)
                session.add(Team(name=name))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n, p)) for n, p in (("a", 0.2), ("b", 0.0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with db.session_scope(db_url) as session:
        assert sorted(session.scalars(select(Team.name))) == ["a", "b"]
