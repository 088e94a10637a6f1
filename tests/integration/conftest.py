"""Real processes on loopback: one Rasa server, and per database an action server + the API.

Rasa takes over a minute to start (TensorFlow), so one Rasa server serves the whole session;
it always calls the action server on the same port, and each database gets its own action
server and API on that port in turn (pytest groups tests by the `stack` parameter).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from crm_cli import rasa_model, stack
from crm_store import db, migrate
from crm_store.demo import seed
from retrieval.config import REPO_ROOT, RetrievalSettings
from retrieval.sync import index_paths

PG_ADMIN_DSN = os.environ.get("CRM_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")

pytestmark = pytest.mark.integration


@dataclass
class RunningStack:
    """What a test needs to talk to the running product."""

    api_url: str
    database_url: str
    processes: list[stack.ServiceProcess]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=60.0)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keep = os.environ.get("CRM_TEST_LOG_DIR")
    path = Path(keep) if keep else tmp_path_factory.mktemp("process-logs")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def action_port() -> int:
    return stack.free_port()


@pytest.fixture(scope="session")
def rasa_url(log_dir: Path, action_port: int) -> Iterator[str]:
    model = rasa_model.ensure_model(quiet=True)
    port = stack.free_port()
    rasa = stack.rasa_server(model, port, f"http://127.0.0.1:{action_port}", log_dir)
    stack.start_all([rasa])
    yield f"http://127.0.0.1:{port}"
    rasa.stop()


@contextmanager
def _database(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database of the given kind; dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('it-sqlite') / 'crm.sqlite3'}"
        return
    name = f"crm_it_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL NOT REACHABLE at {PG_ADMIN_DSN}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def stack_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A migrated, seeded database of each kind, for the whole session."""
    with _database(request.param, tmp_path_factory) as url:
        migrate.upgrade(url)
        with db.session_scope(url) as session:
            seed(session)
        yield url


@pytest.fixture(scope="session")
def kb_index_env(stack_db: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo knowledge base (kb/) indexed into this database and a tmp index folder."""
    index_dir = tmp_path_factory.mktemp("kb-index")
    settings = RetrievalSettings().with_(index_path=index_dir)
    index_paths([REPO_ROOT / "kb"], stack_db, settings)
    return {"CRM_RETRIEVAL_INDEX_DIR": str(index_dir)}


@pytest.fixture(scope="session")
def running(
    stack_db: str,
    rasa_url: str,
    action_port: int,
    log_dir: Path,
    kb_index_env: dict[str, str],
) -> Iterator[RunningStack]:
    """Action server + API for this database, talking to the shared Rasa server."""
    action_url = f"http://127.0.0.1:{action_port}"
    api_port = stack.free_port()
    processes = [
        stack.action_server(action_port, stack_db, log_dir, extra_env=kb_index_env),
        stack.api_server(
            api_port,
            rasa_url=rasa_url,
            action_url=action_url,
            database_url=stack_db,
            log_dir=log_dir,
        ),
    ]
    stack.start_all(processes)
    yield RunningStack(f"http://127.0.0.1:{api_port}", stack_db, processes)
    stack.stop_all(processes)
