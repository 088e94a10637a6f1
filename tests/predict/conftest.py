"""Fixtures for the prediction tests: small slices of the real data sets, a private model
registry, and a migrated CRM database on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from sqlalchemy.orm import Session

from crm_store import db, migrate
from crm_store.models import Base
from predict import retail, telco

TELCO_CSV = Path("/work/shared/datasets/telco_churn/train.csv")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def telco_raw() -> pd.DataFrame:
    """The first 600 rows of the Telco training file, as text (like the CSV)."""
    return pd.read_csv(TELCO_CSV, dtype=str, keep_default_na=False, nrows=600)


@pytest.fixture(scope="session")
def telco_rows(telco_raw: pd.DataFrame) -> pd.DataFrame:
    """The same rows, cleaned."""
    return telco.clean(telco_raw, require_target=True)


@pytest.fixture(scope="session")
def retail_lines() -> pd.DataFrame:
    """Order lines from the first 60,000 rows of Online Retail (about two months)."""
    return retail.read_csv(retail.DEFAULT_PATH, nrows=60_000)


@pytest.fixture
def models_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty registry; CRM_MODELS_DIR points at it so the CLI uses it too."""
    root = tmp_path / "models"
    monkeypatch.setenv("CRM_MODELS_DIR", str(root))
    return root


def _create_postgres() -> str:
    name = f"crm_predict_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


@pytest.fixture(scope="session")
def _databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per kind for the whole run (migrations are the slow part)."""
    urls: dict[str, str] = {}
    pg_name: str | None = None

    def get(kind: str) -> str:
        nonlocal pg_name
        if kind not in urls:
            if kind == "sqlite":
                urls[kind] = f"sqlite:///{tmp_path_factory.mktemp('db') / 'crm.sqlite3'}"
            else:
                pg_name = _create_postgres()
                urls[kind] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
            migrate.upgrade(urls[kind])
        return urls[kind]

    yield get  # type: ignore[misc]
    for url in urls.values():
        db.get_engine(url).dispose()
    if pg_name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def predict_db_url(request: pytest.FixtureRequest, _databases) -> str:
    """A migrated CRM database of each kind, emptied before every test."""
    url = _databases(request.param)
    with db.get_engine(url).begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return url


@pytest.fixture
def session(predict_db_url: str) -> Iterator[Session]:
    """A session on the test database."""
    factory = db.make_session_factory(db.get_engine(predict_db_url))
    with factory() as s:
        yield s


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Tiny matrices on a shared 2-core machine: extra BLAS threads only add contention."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
