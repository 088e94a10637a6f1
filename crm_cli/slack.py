"""`crm slack ...`: deliver the Slack notification outbox, inspect it, requeue failures."""

from __future__ import annotations

import asyncio
import signal

import typer

from channels.slack.deliver import CHANNEL, Deliverer, PassReport
from channels.slack.runtime import make_client, notice_kinds
from channels.slack.settings import SlackSettings
from crm_cli.db import UrlOption, cli_errors, fail
from crm_store.db import session_scope
from crm_store.models import utcnow
from crm_store.queries.notifications import (
    count_notifications,
    list_failed_notifications,
    requeue_notification,
)

app = typer.Typer(no_args_is_help=True, help="Slack: notification delivery.")


def _deliverer(database_url: str | None) -> Deliverer:
    settings = SlackSettings()
    if "CRM_SLACK_BOT_TOKEN" in settings.missing():
        fail("CRM_SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
    return Deliverer(client=make_client(settings), settings=settings,
                     database_url=database_url, kinds=notice_kinds(settings))  # fmt: skip


async def _drain(deliverer: Deliverer) -> PassReport:
    """Passes until a pass finds fewer due rows than a batch."""
    total = PassReport()
    while True:
        report = await deliverer.run_once()
        total.sent, total.retried = total.sent + report.sent, total.retried + report.retried
        total.failed, total.stale = total.failed + report.failed, total.stale + report.stale
        if report.handled < deliverer.settings.deliver_batch:
            return total


async def _forever(deliverer: Deliverer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await deliverer.run_forever(stop)


@app.command()
def deliver(
    once: bool = typer.Option(False, "--once", help="Deliver what is due now, then exit."),
    database_url: UrlOption = None,
) -> None:
    """Post pending Slack notifications (retries with back-off; never posts one twice)."""
    deliverer = _deliverer(database_url)
    with cli_errors():
        if not once:
            typer.echo("delivering Slack notifications; Ctrl-C stops after the current pass")
            asyncio.run(_forever(deliverer))
            return
        report = asyncio.run(_drain(deliverer))
    typer.echo(
        f"sent {report.sent}, retry later {report.retried}, failed {report.failed}"
        + (f", {report.stale} in flight when a deliverer stopped" if report.stale else "")
    )


@app.command()
def outbox(
    limit: int = typer.Option(10, min=1, max=500, help="Failed rows to list."),
    database_url: UrlOption = None,
) -> None:
    """Count Slack notifications by status and list the latest failures with their reason."""
    with cli_errors(), session_scope(database_url) as session:
        counts = count_notifications(session=session, channel=CHANNEL)
        typer.echo(", ".join(f"{status} {n}" for status, n in counts.items()))
        for row in list_failed_notifications(session=session, channel=CHANNEL, limit=limit):
            typer.echo(f"failed #{row.id} ({row.kind}, {row.attempts} attempts): {row.last_error}")


@app.command()
def requeue(
    notification_id: int = typer.Argument(..., help="The failed notification's id."),
    database_url: UrlOption = None,
) -> None:
    """Send a failed notification again (after checking it did not reach Slack)."""
    with cli_errors(), session_scope(database_url) as session:
        requeue_notification(session=session, notification_id=notification_id, now=utcnow())
    typer.echo(f"notification {notification_id} queued again")
