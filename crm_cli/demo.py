"""`crm demo ...`: seed the demo company, show its credentials, run the whole stack."""

from __future__ import annotations

import typer

from crm_cli.db import UrlOption, cli_errors
from crm_store.demo import DEMO_CREDENTIALS, DemoCredentials

app = typer.Typer(no_args_is_help=True, help="The demo company and the one-command demo.")


def credential_lines(creds: DemoCredentials = DEMO_CREDENTIALS) -> list[str]:
    """The demo sign-ins, one per line (the README walkthrough uses them)."""
    return [
        f"rep:            {creds.rep_email}  token {creds.rep_token}",
        f"other rep:      {creds.other_rep_email}  token {creds.other_rep_token}",
        f"manager:        {creds.manager_email}  token {creds.manager_token}",
        f"support agent:  {creds.agent_email}  token {creds.agent_token}",
        f"admin:          {creds.admin_email}  token {creds.admin_token}",
        f"customer:       {creds.customer_email}  token {creds.customer_token}",
        f"customer order: {creds.customer_order_number}  ticket {creds.customer_ticket_number}",
        f"look-alikes:    {creds.rep_account_name!r} / {creds.similar_account_name!r}",
    ]


@app.command("seed")
def seed_cmd(database_url: UrlOption = None) -> None:
    """Migrate the database, add the demo company (once) and print its credentials."""
    from crm_store import migrate
    from crm_store.db import session_scope
    from crm_store.demo import seed

    with cli_errors():
        migrate.upgrade(database_url)
        with session_scope(database_url) as session:
            added = seed(session)
    typer.echo("demo company created" if added else "demo company already present (unchanged)")
    for line in credential_lines():
        typer.echo(line)


@app.command("credentials")
def credentials() -> None:
    """Print the fixed demo credentials."""
    for line in credential_lines():
        typer.echo(line)


@app.command("run")
def run() -> None:
    """Seed if needed, train the bot if it changed, start everything; Ctrl-C stops it."""
    from crm_cli.demo_run import run_demo

    run_demo()
