"""`crm rules`: validate rule files, run the worker, replay history, show statistics."""

from __future__ import annotations

import json
import re
import signal
from datetime import timedelta
from pathlib import Path

import typer
from sqlalchemy.exc import InterfaceError, OperationalError

from crm_store import db
from crm_store.errors import InvalidInputError
from crm_store.models import utcnow
from crm_store.production import require_production_secrets
from crm_store.retention import RetentionSchedule, retention_days
from rules.audit import simulate as simulate_rules
from rules.audit import stats as rule_stats
from rules.engine import DEFAULT_BATCH, drain, new_worker_id, run_forever
from rules.loader import RuleSet, load_rules
from rules.scheduler import emit_time_events

app = typer.Typer(no_args_is_help=True, help="Sales-process automation rules.")
RulesDir = typer.Option(None, "--rules", help="Rule file or directory (default config/rules).")


def _load(path: Path | None) -> RuleSet:
    ruleset = load_rules(path)
    for problem in ruleset.problems:
        typer.echo(f"SKIPPED {problem}", err=True)
    return ruleset


def _since(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([hdw])", text.strip())
    if not match:
        raise typer.BadParameter("use a span such as 12h, 30d or 2w", param_hint="--since")
    hours = {"h": 1, "d": 24, "w": 168}[match.group(2)] * int(match.group(1))
    return timedelta(hours=hours)


@app.command()
def validate(rules: Path | None = RulesDir) -> None:
    """Check the rule files; exit 1 when any file or rule has a problem."""
    ruleset = _load(rules)
    for rule in ruleset.rules:
        state = "enabled" if rule.enabled else "disabled"
        typer.echo(f"ok  {rule.name} ({rule.trigger.name}, {state}, version {rule.version})")
    typer.echo(f"{len(ruleset.rules)} rules loaded, {len(ruleset.problems)} problems")
    raise typer.Exit(1 if ruleset.problems else 0)


@app.command()
def run(
    rules: Path | None = RulesDir,
    once: bool = typer.Option(False, "--once", help="Drain pending events, then exit."),
    batch: int = typer.Option(DEFAULT_BATCH, min=1, max=10_000, help="Events per transaction."),
    poll: float = typer.Option(2.0, min=0.05, help="Seconds between polls when idle."),
    schedule: bool = typer.Option(True, help="Emit time events (idle deals, SLA...) each poll."),
) -> None:
    """Process events: fire each matching rule once per event, recording every firing."""
    from crm_store.log_redaction import install_log_redaction

    install_log_redaction()  # rule actions log records' fields; no PII in the worker's log
    try:
        require_production_secrets()
    except InvalidInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    ruleset = _load(rules)
    factory = db.make_session_factory(db.get_engine())
    retention = RetentionSchedule()
    try:
        retention_days()  # a bad setting stops the worker now, not on its first purge
    except InvalidInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    def tick() -> None:
        if schedule:
            with db.session_scope() as session:
                emit_time_events(session, ruleset)
                retention.tick(session)

    try:
        if once:
            tick()
            result = drain(factory, ruleset, new_worker_id(), batch)
        else:
            stopping: list[bool] = []
            signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
            result = run_forever(factory, ruleset, tick, batch, poll, lambda: bool(stopping))
    except KeyboardInterrupt:
        return
    except (OperationalError, InterfaceError) as exc:
        # Pending events stay pending: the next run picks them up.
        typer.echo(f"database unavailable, nothing lost: {exc.orig or exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"events {result.events}, fired {result.fired}, failed {result.failed}")


@app.command()
def simulate(
    rules: Path | None = RulesDir,
    since: str = typer.Option("30d", help="How far back to replay: 12h, 30d, 2w."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
) -> None:
    """Replay past events against the rule files without side effects."""
    ruleset = _load(rules)
    with db.session_scope() as session:
        report = simulate_rules(session, ruleset, utcnow() - _since(since))
    if as_json:
        typer.echo(
            json.dumps({name: vars(r) for name, r in report.rules.items()}, default=str, indent=2)
        )
        return
    typer.echo(f"{report.events} events since {report.since:%Y-%m-%d %H:%M} UTC")
    for replay in report.rules.values():
        typer.echo(
            f"{replay.name}: would fire {replay.would_fire} (already fired {replay.already_fired})"
        )
        for sample in replay.samples:
            typer.echo(f"    event {sample['event_id']}: {json.dumps(sample['matched'])}")


@app.command()
def stats(
    rules: Path | None = RulesDir,
    since: str | None = typer.Option(None, help="Only firings in this span: 12h, 30d, 2w."),
) -> None:
    """Firings, failures and estimated time saved per rule."""
    ruleset = _load(rules)
    start = utcnow() - _since(since) if since else None
    with db.session_scope() as session:
        rows = rule_stats(session, ruleset, start)
    typer.echo(f"{'rule':32} {'fired':>7} {'failed':>7} {'saved (h)':>9}  last fired")
    for row in rows:
        last = f"{row.last_fired_at:%Y-%m-%d %H:%M}" if row.last_fired_at else "-"
        typer.echo(
            f"{row.name:32} {row.fired:7d} {row.failed:7d} {row.minutes_saved / 60:9.1f}  {last}"
        )
