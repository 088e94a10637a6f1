"""Build what conditions read for a batch of events, with one query per record kind.

Loading each event's records one by one would cost a round trip per event; a batch of 500
events touching deals, tickets and accounts costs a handful of `IN (...)` queries instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.rawread import converters, raw_columns
from rules.triggers import RECORD_MODELS, TRIGGERS

Env = dict[str, Any]
_CHUNK = 500
# Event type → the env key its subject goes under ("account" subjects go under `account`).
_SUBJECT_ROOT = {name: t.subject for name, t in TRIGGERS.items() if t.subject != "account"}


# Per record kind: the column keys and the converters of the raw driver values
# (`rules.rawread`): money as float, dates as UTC datetimes, JSON parsed; the rest as stored.
_COLUMNS = {
    record: (
        [column.key for column in model.__table__.columns],  # type: ignore[attr-defined]
        converters(model.__table__),  # type: ignore[attr-defined]
        raw_columns(model.__table__),  # type: ignore[attr-defined]
    )
    for record, model in RECORD_MODELS.items()
}


def _load_rows(session: Session, record: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    table = RECORD_MODELS[record].__table__  # type: ignore[attr-defined]
    keys, convert, columns = _COLUMNS[record]
    wanted = sorted(set(ids))
    rows: dict[int, dict[str, Any]] = {}
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(*columns).where(table.c.id.in_(wanted[start : start + _CHUNK]))
        for row in session.execute(stmt):
            values = list(row)
            for index, fn in convert:
                values[index] = fn(values[index])
            rows[values[0]] = dict(zip(keys, values, strict=True))
    return rows


def event_values(event: Any) -> dict[str, Any]:
    """The `event.*` fields: id, type, time and the payload's own fields."""
    return {
        **(event.payload or {}),
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at,
    }


def build_envs(session: Session, events: Sequence[Any], now: datetime) -> list[Env]:
    """One condition environment per event, in order: `event`, the subject, `account`, `now`.

    `events` are `crm_events` rows or `CrmEvent` objects (anything with their attributes).
    Events about the same record share its dict: the worker copies before an action changes
    anything. A record that no longer exists reads as an empty record (every field null), so
    conditions on it are simply false; actions that need it fail with a clear message.
    """
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        if event.subject_id is not None and event.subject_type in RECORD_MODELS:
            wanted[event.subject_type].add(event.subject_id)
    subjects = {kind: _load_rows(session, kind, ids) for kind, ids in wanted.items()}
    empty: dict[str, Any] = {}
    envs: list[Env] = []
    account_ids: list[Any] = []
    for event in events:
        kind, subject_id = event.subject_type, event.subject_id
        subject = subjects.get(kind, empty).get(subject_id, empty)
        env: Env = {"now": now, "event": event_values(event)}
        root = _SUBJECT_ROOT.get(event.type)
        if root is not None:
            env[root] = subject
        envs.append(env)
        account_ids.append(
            subject_id if kind == "account" else subject.get("account_id", event.account_id)
        )
    accounts = dict(subjects.get("account", empty))
    missing = {int(a) for a in account_ids if a is not None} - accounts.keys()
    if missing:
        accounts.update(_load_rows(session, "account", missing))
    for env, account_id in zip(envs, account_ids, strict=True):
        env["account"] = accounts.get(account_id, empty) if account_id is not None else empty
    return envs
