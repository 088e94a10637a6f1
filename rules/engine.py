"""The worker: claim pending events, fire the matching rules, record every firing.

One batch is one transaction: the claim, every action's writes, the firing records and the
"done" mark commit together. A worker killed mid-batch therefore leaves no trace: its events
are pending again (PostgreSQL releases the row locks with the connection) and the next worker
fires them once. Several workers on PostgreSQL share the table with
`SELECT ... FOR UPDATE SKIP LOCKED`; on SQLite, one writer at a time is the database's own rule.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from crm_store.models import CrmEvent, Notification, RuleFiring, utcnow
from crm_store.models.events import EVENT_DONE, EVENT_PENDING
from rules.actions import ActionContext
from rules.context import build_envs
from rules.loader import Rule, RuleSet
from rules.rawread import raw_columns, to_datetime, to_json_value

log = logging.getLogger(__name__)
DEFAULT_BATCH = 500


@dataclass
class BatchResult:
    """What one batch (or a whole drain) did."""

    events: int = 0
    fired: int = 0
    failed: int = 0

    def add(self, other: BatchResult) -> None:
        """Accumulate another batch's counts."""
        self.events += other.events
        self.fired += other.fired
        self.failed += other.failed


def new_worker_id() -> str:
    """A label for this worker in the audit trail (`rule_firings.worker`)."""
    return f"worker-{uuid.uuid4().hex[:12]}"


# What the worker and the actions read of an event; the rest (status, dedupe key...) is not
# worth decoding 100k times.
CLAIMED_COLUMNS = (
    "id",
    "type",
    "subject_type",
    "subject_id",
    "account_id",
    "payload",
    "occurred_at",
)


class ClaimedEvent(NamedTuple):
    """A claimed `crm_events` row: the fields rules and actions read, attribute access like
    the model (building 100k ORM objects would cost more than evaluating the rules)."""

    id: int
    type: str
    subject_type: str
    subject_id: int | None
    account_id: int | None
    payload: dict[str, Any]
    occurred_at: datetime


def _claimed(rows: Iterable[Row[Any]]) -> list[ClaimedEvent]:
    # Raw driver values (rules.rawread): JSON text on SQLite, naive UTC timestamps as text.
    return [
        ClaimedEvent(i, t, st, sid, aid, to_json_value(p) or {}, to_datetime(at))  # type: ignore[arg-type]
        for i, t, st, sid, aid, p, at in rows
    ]


def claim_events(session: Session, worker: str, limit: int, now: datetime) -> list[ClaimedEvent]:
    """Take up to `limit` pending events for this transaction, oldest first, marking them done.

    One statement claims and marks: the mark commits only with the batch's firings, so a
    worker that dies (or a batch that rolls back) leaves the events pending for the next one.
    PostgreSQL: `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)` keeps the rows
    locked until commit and other workers skip them. SQLite: the UPDATE is the first write,
    so it takes the database's write lock for the whole batch. RETURNING promises no order,
    hence the sort.
    """
    table = CrmEvent.__table__
    oldest = (
        select(table.c.id).where(table.c.status == EVENT_PENDING).order_by(table.c.id).limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    stmt = (
        update(table)
        .where(table.c.id.in_(oldest))
        .values(status=EVENT_DONE, processed_at=now, claimed_by=worker)
        .returning(*raw_columns(table, CLAIMED_COLUMNS))
    )
    return sorted(_claimed(session.execute(stmt)), key=lambda event: event.id)


class _RetryCarefully(Exception):
    """An action failed in fast mode: redo the batch with a savepoint per firing."""


# Errors that mean "the database is gone", not "this firing cannot be done": they abort the
# batch (retried later) instead of being recorded as a failed firing.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


@dataclass
class _Writes:
    """Rows a batch inserts in bulk just before it commits."""

    firings: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def flush(self, session: Session) -> None:
        if self.outbox:
            session.execute(insert(Notification.__table__), self.outbox)
        if self.firings:
            session.execute(insert(RuleFiring.__table__), self.firings)


def _run_actions(
    session: Session, rule: Rule, event: Any, env: dict[str, Any], now: datetime, writes: _Writes
) -> list[dict[str, Any]]:
    if any(action.writes_env for action in rule.actions):
        local = {
            key: dict(value) if isinstance(value, dict) else value for key, value in env.items()
        }
    else:
        local = env  # nothing writes into it: no copy (most rules only read)
    results = []
    outbox: list[dict[str, Any]] = []
    for index, action in enumerate(rule.actions):
        ctx = ActionContext(
            session=session,
            event=event,
            env=local,
            rule_name=rule.name,
            now=now,
            index=index,
            subject=rule.trigger.subject,
            outbox=outbox,
        )
        try:
            results.append(action.run(ctx))
        except CONNECTION_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - any other failure is this firing's, audited
            raise _ActionFailed(f"{action.kind}: {exc}"[:2000]) from exc
    if local is not env:
        env.update(local)  # later rules on this event see what this one changed
    writes.outbox.extend(outbox)  # only a firing that succeeded whole leaves rows behind
    return results


class _ActionFailed(Exception):
    pass


def fire(
    session: Session,
    rule: Rule,
    event: Any,
    env: dict[str, Any],
    worker: str,
    now: datetime,
    writes: _Writes,
    careful: bool = True,
) -> bool:
    """Run one rule's actions on one event and record the firing.

    In careful mode the actions run inside a savepoint: one that fails (a vanished record, an
    unknown owner) rolls back every action of this firing, and the firing is recorded as
    `failed` with the reason, so nothing is half done. In fast mode (no savepoint round trips)
    a failure aborts the whole batch, which is then redone carefully.

    Returns:
        True when every action succeeded.
    """
    matched = rule.matched_values(env)
    error = None
    results: list[dict[str, Any]] = []
    if careful:
        try:
            with session.begin_nested():
                results = _run_actions(session, rule, event, env, now, writes)
        except _ActionFailed as exc:
            error = str(exc)
            log.warning("rule %s failed on event %s: %s", rule.name, event.id, error)
    else:
        try:
            results = _run_actions(session, rule, event, env, now, writes)
        except _ActionFailed as exc:
            raise _RetryCarefully from exc
    writes.firings.append({
        "rule_name": rule.name, "rule_version": rule.version, "event_id": event.id,
        "status": "failed" if error else "fired", "matched": matched, "actions": results,
        "error": error, "worker": worker, "fired_at": now,
    })  # fmt: skip
    return error is None


def evaluate(rules: Sequence[Rule], env: dict[str, Any]) -> list[Rule]:
    """The rules (already filtered by trigger) whose conditions hold for `env`."""
    return [rule for rule in rules if rule.matches(env)]


def process_batch(
    session: Session,
    ruleset: RuleSet,
    worker: str,
    limit: int = DEFAULT_BATCH,
    now: datetime | None = None,
) -> BatchResult:
    """Claim, evaluate, act and commit one batch; returns its counts (0 events when idle)."""
    try:
        return _process(session, ruleset, worker, limit, now, careful=False)
    except _RetryCarefully:
        session.rollback()
        return _process(session, ruleset, worker, limit, now, careful=True)


def _process(
    session: Session, ruleset: RuleSet, worker: str, limit: int, now: datetime | None, careful: bool
) -> BatchResult:
    result = BatchResult()
    try:
        now = now or utcnow()
        events = claim_events(session, worker, limit, now)
        if not events:
            session.rollback()
            return result
        writes = _Writes()
        indexes = ruleset.candidates_by_trigger
        for event, env in zip(events, build_envs(session, events, now), strict=True):
            index = indexes.get(event.type)
            if index is None:
                continue
            for _, rule, check in index(env):
                if check(env):
                    ok = fire(session, rule, event, env, worker, now, writes, careful)
                    result.fired += ok
                    result.failed += not ok
        writes.flush(session)
        session.commit()
    except _RetryCarefully:
        raise
    except BaseException:
        session.rollback()
        raise
    result.events = len(events)
    return result


def drain(
    session_factory: Callable[[], Session],
    ruleset: RuleSet,
    worker: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    max_batches: int | None = None,
) -> BatchResult:
    """Process batches until no pending event is left (or `max_batches` ran)."""
    worker = worker or new_worker_id()
    total = BatchResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        with session_factory() as session:
            result = process_batch(session, ruleset, worker, batch_size)
        batches += 1
        total.add(result)
        if result.events == 0:
            break
    return total


def run_forever(
    session_factory: Callable[[], Session],
    ruleset: RuleSet,
    tick: Callable[[], Any] | None = None,
    batch_size: int = DEFAULT_BATCH,
    poll_seconds: float = 2.0,
    should_stop: Callable[[], bool] = lambda: False,
) -> BatchResult:
    """Loop: emit time events (`tick`), drain, sleep; until `should_stop()` says so."""
    worker = new_worker_id()
    total = BatchResult()
    while not should_stop():
        if tick is not None:
            tick()
        total.add(drain(session_factory, ruleset, worker, batch_size))
        time.sleep(poll_seconds)
    return total
