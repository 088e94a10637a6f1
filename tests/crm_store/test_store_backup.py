"""Backup and restore of the SQLite store: a round trip, and refusals that change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from crm_cli.main import app
from crm_store import backup
from crm_store.db import session_scope
from crm_store.errors import InvalidInputError
from crm_store.models import Lead, Order
from crm_store.queries.leads import create_lead

SQLITE_ONLY = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
runner = CliRunner()


def _counts(url: str) -> tuple[int, int]:
    with session_scope(url) as session:
        return (
            session.scalar(select(func.count()).select_from(Order)) or 0,
            session.scalar(select(func.count()).select_from(Lead)) or 0,
        )


@SQLITE_ONLY
def test_round_trip_restores_exactly_the_snapshot(seeded_db_url: str, tmp_path: Path) -> None:
    before = _counts(seeded_db_url)
    info = backup.backup(tmp_path / "snap.sqlite3", seeded_db_url)
    assert info.rows["orders"] == before[0] and info.revision
    with session_scope(seeded_db_url) as session:  # changes made after the backup
        session.execute(delete(Order).where(Order.id.in_(select(Order.id).limit(3))))
        create_lead(session=session, name="Late Lead", email="late@example.com",
                    company="Late Co", need="pricing")  # fmt: skip
    assert _counts(seeded_db_url) == (before[0] - 3, before[1] + 1)
    restored = backup.restore(tmp_path / "snap.sqlite3", seeded_db_url)
    assert _counts(seeded_db_url) == before
    assert restored.rows == info.rows


@SQLITE_ONLY
def test_backup_is_one_self_contained_file(seeded_db_url: str, tmp_path: Path) -> None:
    dest = tmp_path / "nested" / "snap.sqlite3"
    backup.backup(dest, seeded_db_url)
    assert dest.is_file() and not Path(f"{dest}-wal").exists()
    assert not dest.with_name("snap.sqlite3.partial").exists()
    assert backup.inspect_snapshot(dest).rows["orders"] == _counts(seeded_db_url)[0]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a database at all", "not a SQLite database"), (None, "no such file")],
)
def test_restore_refuses_bad_files_and_changes_nothing(
    seeded_db_url: str, tmp_path: Path, content: bytes | None, message: str
) -> None:
    bad = tmp_path / "bad.sqlite3"
    if content is not None:
        bad.write_bytes(content)
    before = _counts(seeded_db_url)
    with pytest.raises(InvalidInputError, match=message):
        backup.restore(bad, seeded_db_url)
    assert _counts(seeded_db_url) == before


@SQLITE_ONLY
def test_restore_refuses_a_sqlite_file_that_is_not_a_crm_store(
    seeded_db_url: str, tmp_path: Path
) -> None:
    import sqlite3

    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(InvalidInputError, match="not a CRM store"):
        backup.restore(other, seeded_db_url)


def test_postgresql_is_pointed_to_its_own_tools() -> None:
    with pytest.raises(InvalidInputError, match="pg_dump"):
        backup.sqlite_path("postgresql+psycopg://u@127.0.0.1/x")


@SQLITE_ONLY
def test_cli_round_trip(seeded_db_url: str, tmp_path: Path) -> None:
    snap = tmp_path / "cli.sqlite3"
    result = runner.invoke(app, ["backup", str(snap), "--database-url", seeded_db_url])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(snap.resolve())
    result = runner.invoke(app, ["restore", str(snap), "--database-url", seeded_db_url, "--yes"])
    assert result.exit_code == 0, result.output
    assert "restored" in result.stdout
    refused = runner.invoke(app, ["restore", str(tmp_path / "missing"), "--yes",
                                  "--database-url", seeded_db_url])  # fmt: skip
    assert refused.exit_code == 1 and "error:" in refused.stderr
    assert "Traceback" not in refused.output
