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

from rules.triggers import RECORD_MODELS, TRIGGERS, plain

Env = dict[str, Any]
_CHUNK = 500


def _load_rows(session: Session, record: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    table = RECORD_MODELS[record].__table__  # type: ignore[attr-defined]
    wanted = sorted(set(ids))
    rows: dict[int, dict[str, Any]] = {}
    keys = [column.key for column in table.columns]
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(*table.columns).where(table.c.id.in_(wanted[start : start + _CHUNK]))
        for row in session.execute(stmt):
            rows[row[0]] = {key: plain(value) for key, value in zip(keys, row, strict=True)}
    return rows


def event_values(event: Any) -> dict[str, Any]:
    """The `event.*` fields: id, type, time and the payload's own fields."""
    values = dict(event.payload or {})
    values["id"], values["type"], values["occurred_at"] = event.id, event.type, event.occurred_at
    return values


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
    pairs = []
    for event in events:
        subject = subjects.get(event.subject_type, empty).get(event.subject_id, empty)
        account_id = event.subject_id if event.subject_type == "account" else subject.get(
            "account_id", event.account_id)
        pairs.append((event, subject, account_id))
    ids = {int(a) for _, _, a in pairs if a is not None}
    accounts = _load_rows(session, "account", ids) if ids else {}
    envs = []
    for event, subject, account_id in pairs:
        env: Env = {"now": now, "event": event_values(event)}
        trigger = TRIGGERS.get(event.type)
        if trigger is not None and trigger.subject != "account":
            env[trigger.subject] = subject
        env["account"] = accounts.get(account_id, empty) if account_id is not None else empty
        envs.append(env)
    return envs
