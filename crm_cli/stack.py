"""Start and stop the product's processes on loopback: Rasa, the action server and the API.

One place knows the command lines, so `crm demo run`, the integration tests and the benchmarks
run exactly the same processes. Each process logs to its own file; readiness is an HTTP probe.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crm_cli.rasa_model import BOT_DIR, RASA_PYTHON, REPO_ROOT, rasa_env

MAIN_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceProcess:
    """One child process with a readiness URL and a log file."""

    name: str
    argv: list[str]
    ready_url: str
    log_path: Path
    cwd: Path = REPO_ROOT
    env: dict[str, str] = field(default_factory=dict)
    start_timeout: float = 60.0
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Spawn the process in its own process group (so stop() reaches its children)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env or None,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    def wait_ready(self) -> None:
        """Poll the readiness URL until it answers 200, the process dies, or time runs out.

        A process without a readiness URL (a worker) is ready once it has not died at start.
        """
        if not self.ready_url:
            time.sleep(1.0)
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            return
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(self.ready_url, timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{self.name} not ready after {self.start_timeout:.0f}s: {self.tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL at once: used by fault tests that simulate a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(os.getpgid(self.proc.pid), signal.SIGKILL)
            self.proc.wait(timeout=10)

    def tail(self, lines: int = 20) -> str:
        """Last lines of the log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def rasa_server(
    model: Path,
    port: int,
    action_url: str,
    log_dir: Path,
    *,
    endpoints: str = "endpoints.yml",
    extra_env: dict[str, str] | None = None,
) -> ServiceProcess:
    """The Rasa server (Python 3.10 venv) with the REST channel and its HTTP API on loopback.

    `endpoints` names a file in `bot/`: the default keeps trackers in memory (one process);
    `endpoints.production.yml` puts them in PostgreSQL with a Redis lock store (replicas),
    configured by the `RASA_DB_*` / `REDIS_*` variables in `extra_env`.
    """
    argv = [
        str(RASA_PYTHON), "-m", "rasa", "run", "--enable-api",
        "--model", str(model), "--endpoints", endpoints, "--credentials", "credentials.yml",
        "--interface", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    return ServiceProcess(
        name=f"rasa-{port}",
        argv=argv,
        ready_url=f"http://127.0.0.1:{port}/status",
        log_path=log_dir / f"rasa-{port}.log",
        cwd=BOT_DIR,
        env=rasa_env({"ACTION_ENDPOINT_URL": f"{action_url}/webhook", **(extra_env or {})}),
        start_timeout=300.0,
    )


def action_server(
    port: int, database_url: str, log_dir: Path, extra_env: dict[str, str] | None = None
) -> ServiceProcess:
    """The rasa-sdk action server (main venv), bound to loopback only.

    `extra_env` adds settings such as `CRM_RETRIEVAL_INDEX_DIR` (the tests' own index).
    """
    env = {
        **os.environ,
        "CRM_DATABASE_URL": database_url,
        "SANIC_HOST": "127.0.0.1",
        **(extra_env or {}),
    }
    return ServiceProcess(
        name="actions",
        argv=[str(MAIN_PYTHON), "-m", "rasa_sdk", "--actions", "bot.actions", "-p", str(port)],
        ready_url=f"http://127.0.0.1:{port}/health",
        log_path=log_dir / f"actions-{port}.log",
        env=env,
        start_timeout=90.0,
    )


def api_server(
    port: int,
    *,
    rasa_url: str,
    action_url: str,
    database_url: str,
    log_dir: Path,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> ServiceProcess:
    """The FastAPI channels app under uvicorn (`workers` processes sharing the port)."""
    env = {
        **os.environ,
        "CRM_DATABASE_URL": database_url,
        "CRM_RASA_URL": rasa_url,
        "CRM_ACTION_SERVER_URL": action_url,
        **(extra_env or {}),
    }
    argv = [
        str(MAIN_PYTHON), "-m", "uvicorn", "channels.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        *(["--workers", str(workers)] if workers > 1 else []),
    ]  # fmt: skip
    return ServiceProcess(
        name="api",
        argv=argv,
        ready_url=f"http://127.0.0.1:{port}/openapi.json",
        log_path=log_dir / f"api-{port}.log",
        env=env,
    )


def rules_worker(database_url: str, log_dir: Path, name: str = "rules-worker") -> ServiceProcess:
    """`crm rules run`: drains rule events and runs the scheduled jobs (no HTTP port)."""
    return ServiceProcess(
        name=name,
        argv=[str(MAIN_PYTHON), "-m", "crm_cli.main", "rules", "run"],
        ready_url="",
        log_path=log_dir / f"{name}.log",
        env={**os.environ, "CRM_DATABASE_URL": database_url},
    )


def start_all(processes: list[ServiceProcess]) -> None:
    """Start every process first, then wait for each, so slow starts overlap."""
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.wait_ready()
    except BaseException:
        stop_all(processes)
        raise


def supervise(processes: list[ServiceProcess], say: Callable[[str], None]) -> None:
    """Wait until Ctrl-C, SIGTERM or a process dies, then stop them all (`crm demo run`,
    `crm cluster run`). A second Ctrl-C during the shutdown is ignored: it would leave the
    children, which run in sessions of their own, behind."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(p.proc is not None and p.proc.poll() is None for p in processes):
            time.sleep(1)
        say("[red]A process stopped unexpectedly; see the logs.[/red]")
    except KeyboardInterrupt:
        say("Stopping…")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_all(processes)


def stop_all(processes: list[ServiceProcess]) -> None:
    """Stop in reverse order of start."""
    for process in reversed(processes):
        process.stop()
