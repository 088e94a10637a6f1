"""`crm cluster run`: the production topology on this machine (see crm_cli/cluster.py)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="The multi-replica topology without Docker.")


@app.command("run")
def run() -> None:
    """Two Rasa replicas (PostgreSQL trackers, Redis locks), actions, two API workers, rules."""
    import psycopg

    from crm_cli.cluster import run_cluster
    from crm_cli.db import fail

    try:
        run_cluster()
    except psycopg.OperationalError as exc:
        fail(f"PostgreSQL is needed for the cluster: {str(exc).strip().splitlines()[0]}")
