"""`crm users ...`: create users (printing their API token once) and link Slack ids."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_cli.db import UrlOption, cli_errors, fail
from crm_store.db import session_scope
from crm_store.models import Role
from crm_store.queries.users import create_user, get_user_by_email, link_slack

app = typer.Typer(no_args_is_help=True, help="Users and API tokens.")
ROLES = ", ".join(r.value for r in Role)


@app.command("add")
def add(
    email: Annotated[str, typer.Option("--email", help="Sign-in email (unique).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {ROLES}.")],
    team: Annotated[str | None, typer.Option("--team", help="Team name (created if new).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    contact_id: Annotated[
        int | None, typer.Option("--contact-id", help="Customers: their contact id.")
    ] = None,
    database_url: UrlOption = None,
) -> None:
    """Create a user; the API token is printed on the last line, once."""
    if role not in {r.value for r in Role}:
        fail(f"unknown role {role!r} (use one of: {ROLES})")
    with cli_errors(), session_scope(database_url) as session:
        user, token = create_user(
            session=session, email=email, role=role, name=name, team=team, contact_id=contact_id
        )
        team_name = user.team.name if user.team else "-"
        typer.echo(f"created user {user.id}: {user.email} ({user.role.value}, team {team_name})")
    typer.echo("API token (shown only now; store it safely):", err=True)
    typer.echo(token)


@app.command("link-slack")
def link_slack_cmd(
    email: Annotated[str, typer.Option("--email", help="The user's email.")],
    slack_id: Annotated[
        str, typer.Option("--slack-user", "--slack-id", help="Slack member id, e.g. U012AB3CD.")
    ],
    database_url: UrlOption = None,
) -> None:
    """Link a Slack member id to a user, so Slack messages act with that user's rights."""
    with cli_errors(), session_scope(database_url) as session:
        user = get_user_by_email(session=session, email=email)
        if user is None:
            fail(f"no user with email {email}")
        link_slack(session=session, user_id=user.id, slack_user_id=slack_id)
        typer.echo(f"linked Slack {slack_id} to {user.email}")
