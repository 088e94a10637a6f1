"""`crm cluster run` (`make cluster`): the production topology on one machine, without Docker.

Two Rasa replicas on their own loopback ports share trackers in PostgreSQL and a Redis lock
store, so any replica can take any turn of any conversation; the API (two uvicorn workers)
spreads turns across them and fails over when one refuses connections; one action server
and one rules worker. The CRM store is a PostgreSQL database of its own. The same wiring as
docker-compose.yml, so what the tests prove here holds there.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from crm_cli import rasa_model, stack
from crm_cli.demo_run import prepare_database
from crm_store.demo import DEMO_CREDENTIALS
from retrieval.config import RetrievalSettings

console = Console(stderr=True)


LOCK_LIFETIME_S = "6"
# One JSON object per log line with the request and conversation ids: `grep <request id>`
# over var/cluster/logs/*.log follows one turn through the API and the action server.
JSON_LOGS = {"CRM_LOG_FORMAT": "json"}


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CRM_CLUSTER_{name}", "").strip() or default


@dataclass(frozen=True)
class ClusterConfig:
    """Where the cluster's state lives and which ports it takes (`CRM_CLUSTER_*` overrides).

    Attributes:
        pg_host, pg_port, pg_user, pg_password: the PostgreSQL server for both databases.
        crm_db: the CRM store's database; rasa_db: Rasa's tracker store.
        redis_host, redis_port, redis_password: the Redis server.
        redis_lock_db: Redis database of Rasa's lock store; redis_limits_db: the API's rate
            limits.
        api_port: the one public port; api_workers: uvicorn worker processes behind it.
        replicas: number of Rasa replicas.
        run_dir: logs and the cluster's own knowledge index.
        api_env: extra settings for the API (a load test lifts the per-address chat limit,
            since all its sessions come from 127.0.0.1).
    """

    pg_host: str = field(default_factory=lambda: _env("PG_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: int(_env("PG_PORT", "5432")))
    pg_user: str = field(default_factory=lambda: _env("PG_USER", "postgres"))
    pg_password: str = field(default_factory=lambda: _env("PG_PASSWORD", ""))
    crm_db: str = field(default_factory=lambda: _env("CRM_DB", "crm_cluster"))
    rasa_db: str = field(default_factory=lambda: _env("RASA_DB", "crm_cluster_rasa"))
    redis_host: str = field(default_factory=lambda: _env("REDIS_HOST", "127.0.0.1"))
    redis_port: int = field(default_factory=lambda: int(_env("REDIS_PORT", "6379")))
    redis_password: str = field(default_factory=lambda: _env("REDIS_PASSWORD", ""))
    redis_lock_db: int = field(default_factory=lambda: int(_env("REDIS_LOCK_DB", "1")))
    redis_limits_db: int = field(default_factory=lambda: int(_env("REDIS_LIMITS_DB", "2")))
    api_port: int = field(default_factory=lambda: int(_env("API_PORT", "8100")))
    api_workers: int = 2
    replicas: int = 2
    api_env: dict[str, str] = field(default_factory=dict)
    run_dir: Path = field(default_factory=lambda: rasa_model.REPO_ROOT / "var" / "cluster")

    @property
    def crm_url(self) -> str:
        """SQLAlchemy URL of the CRM store."""
        auth = f"{self.pg_user}:{self.pg_password}" if self.pg_password else self.pg_user
        return f"postgresql+psycopg://{auth}@{self.pg_host}:{self.pg_port}/{self.crm_db}"

    @property
    def redis_url(self) -> str:
        """Redis URL of the API's rate limits."""
        auth = f":{self.redis_password}@" if self.redis_password else ""
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_limits_db}"

    def rasa_store_env(self) -> dict[str, str]:
        """What `bot/endpoints.production.yml` reads: SQL trackers and the Redis lock store."""
        return {
            "RASA_DB_HOST": self.pg_host,
            "RASA_DB_PORT": str(self.pg_port),
            "RASA_DB_NAME": self.rasa_db,
            "RASA_DB_USER": self.pg_user,
            "RASA_DB_PASSWORD": self.pg_password,
            "REDIS_HOST": self.redis_host,
            "REDIS_PORT": str(self.redis_port),
            "REDIS_LOCK_DB": str(self.redis_lock_db),
            "REDIS_PASSWORD": self.redis_password,
            # A replica killed mid-turn leaves that conversation's lock in Redis until the
            # lock's lifetime ends (Rasa's default: 60 s, longer than the API's 30 s turn
            # timeout). Live turns renew their tickets (bot/crm_lock_store.py), so the
            # lifetime only bounds how long a dead replica's lock blocks the conversation.
            "TICKET_LOCK_LIFETIME": LOCK_LIFETIME_S,
        }


@dataclass
class Cluster:
    """The cluster's processes and addresses."""

    config: ClusterConfig
    api_url: str
    rasa_urls: list[str]
    action_url: str
    processes: list[stack.ServiceProcess]

    def process(self, name: str) -> stack.ServiceProcess:
        """The process called `name` (e.g. `rasa-5006`, `actions`, `api`)."""
        return next(p for p in self.processes if p.name == name)

    @property
    def rasa_processes(self) -> list[stack.ServiceProcess]:
        """The Rasa replicas, in the order of `rasa_urls`."""
        return [p for p in self.processes if p.name.startswith("rasa-")]


def _admin(config: ClusterConfig) -> psycopg.Connection:
    dsn = (f"host={config.pg_host} port={config.pg_port} user={config.pg_user} "
           f"dbname=postgres connect_timeout=5")  # fmt: skip
    if config.pg_password:
        dsn += f" password={config.pg_password}"
    return psycopg.connect(dsn, autocommit=True)


def drop_databases(config: ClusterConfig) -> None:
    """Drop both databases (tests and benchmarks that made their own)."""
    from crm_store.db import dispose_engine

    dispose_engine(config.crm_url)
    with _admin(config) as admin:
        for name in (config.crm_db, config.rasa_db):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ensure_databases(config: ClusterConfig) -> None:
    """Create the CRM and tracker databases when missing (Rasa does not create its own)."""
    with _admin(config) as admin:
        for name in (config.crm_db, config.rasa_db):
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                admin.execute(f'CREATE DATABASE "{name}"')


def _fresh_dir(path: Path) -> Path:
    """An empty folder (prometheus_client's multiprocess files must not outlive a run)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def build_cluster(config: ClusterConfig, model: Path) -> Cluster:
    """The processes of the topology, not yet started (ports picked now)."""
    logs = config.run_dir / "logs"
    index_env = {"CRM_RETRIEVAL_INDEX_DIR": str(config.run_dir / "index"), **JSON_LOGS}
    action_port = stack.free_port()
    action_url = f"http://127.0.0.1:{action_port}"
    rasa_ports = [stack.free_port() for _ in range(config.replicas)]
    rasa_urls = [f"http://127.0.0.1:{port}" for port in rasa_ports]
    processes = [stack.action_server(action_port, config.crm_url, logs, extra_env=index_env)]
    processes += [
        stack.rasa_server(
            model,
            port,
            action_url,
            logs,
            endpoints="endpoints.production.yml",
            extra_env=config.rasa_store_env(),
        )  # fmt: skip
        for port in rasa_ports
    ]
    processes.append(
        stack.api_server(
            config.api_port,
            rasa_url=",".join(rasa_urls),
            action_url=action_url,
            database_url=config.crm_url,
            log_dir=logs,
            workers=config.api_workers,
            extra_env={
                "CRM_REDIS_URL": config.redis_url,
                # Two workers: each writes its metrics here and /metrics sums them.
                "PROMETHEUS_MULTIPROC_DIR": str(_fresh_dir(config.run_dir / "prometheus")),
                **JSON_LOGS,
                **config.api_env,
            },
        )
    )
    processes.append(stack.rules_worker(config.crm_url, logs))
    api_url = f"http://127.0.0.1:{config.api_port}"
    return Cluster(config, api_url, rasa_urls, action_url, processes)


def prepare(config: ClusterConfig) -> Path:
    """Databases, demo data, predictions, the cluster's own knowledge index, the Rasa model."""
    index = RetrievalSettings().with_(index_path=config.run_dir / "index")
    with console.status("Preparing the PostgreSQL CRM store (migrations, demo data)…"):
        ensure_databases(config)
        prepare_database(config.crm_url, index)
    return rasa_model.ensure_model()


@contextmanager
def scratch_cluster(name: str, **changes: Any) -> Iterator[Cluster]:
    """A running cluster on databases of its own (tests, benchmarks), dropped afterwards.

    Args:
        name: Prefix of the two databases' names; a random suffix keeps runs apart.
        changes: `ClusterConfig` fields to override (run_dir, Redis databases, API settings).
    """
    run = uuid.uuid4().hex[:6]
    config = ClusterConfig(**{
        "crm_db": f"{name}_{run}", "rasa_db": f"{name}_{run}_rasa",
        "api_port": stack.free_port(), **changes,
    })  # fmt: skip
    cluster = build_cluster(config, prepare(config))
    try:
        stack.start_all(cluster.processes)
        yield cluster
    finally:
        stack.stop_all(cluster.processes)
        drop_databases(config)


def run_cluster(config: ClusterConfig | None = None) -> None:
    """Prepare, start every process, print the addresses, stop everything on Ctrl-C."""
    config = config or ClusterConfig()
    cluster = build_cluster(config, prepare(config))
    with console.status("Starting the action server, two Rasa replicas (a minute or two)…"):
        stack.start_all(cluster.processes)
    _print_welcome(cluster)
    stack.supervise(cluster.processes, console.print)


def _print_welcome(cluster: Cluster) -> None:
    config = cluster.config
    table = Table(title="CRM assistant cluster is running", show_header=False)
    table.add_row("Customer chat", f"{cluster.api_url}/")
    table.add_row("Rep console", f"{cluster.api_url}/rep")
    table.add_row("Health", f"{cluster.api_url}/v1/health")
    table.add_row("API", f"{config.api_workers} uvicorn workers on port {config.api_port}")
    table.add_row("Rasa replicas", "  ".join(cluster.rasa_urls) + "  (loopback only)")
    table.add_row("Action server", cluster.action_url)
    table.add_row("CRM store", f"PostgreSQL database {config.crm_db}")
    table.add_row("Rasa trackers", f"PostgreSQL database {config.rasa_db}")
    table.add_row("Rasa locks", f"Redis db {config.redis_lock_db} at {config.redis_host}")
    table.add_row("Logs", str(config.run_dir / "logs"))
    table.add_section()
    table.add_row("Rep token", f"{DEMO_CREDENTIALS.rep_token}  ({DEMO_CREDENTIALS.rep_email})")
    Console().print(table)
    console.print("Press Ctrl-C to stop everything.")
