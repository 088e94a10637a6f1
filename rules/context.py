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

from crm_store.models import CrmEvent
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


def event_values(event: CrmEvent) -> dict[str, Any]:
    """The `event.*` fields: id, type, time and the payload's own fields."""
    return {**(event.payload or {}), "id": event.id, "type": event.type,
            "occurred_at": event.occurred_at}


def build_envs(session: Session, events: Sequence[CrmEvent], now: datetime) -> list[Env]:
    """One condition environment per event, in order: `event`, the subject, `account`, `now`.

    A record that no longer exists reads as an empty record (every field null), so
    conditions on it are simply false; actions that need it fail with a clear message.
    """
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        if event.subject_id is not None and event.subject_type in RECORD_MODELS:
            wanted[event.subject_type].add(event.subject_id)
    subjects = {kind: _load_rows(session, kind, ids) for kind, ids in wanted.items()}
    account_ids: set[int] = set()
    for event in events:
        subject = subjects.get(event.subject_type, {}).get(event.subject_id or -1, {})
        account_id = subject.get("account_id", event.account_id) if event.subject_type != (
            "account") else event.subject_id
        if account_id is not None:
            account_ids.add(int(account_id))
    accounts = _load_rows(session, "account", account_ids) if account_ids else {}
    envs = []
    for event in events:
        subject = subjects.get(event.subject_type, {}).get(event.subject_id or -1, {})
        env: Env = {"now": now, "event": event_values(event)}
        trigger = TRIGGERS.get(event.type)
        if trigger is not None and trigger.subject != "account":
            env[trigger.subject] = dict(subject)
        account_id = event.subject_id if event.subject_type == "account" else subject.get(
            "account_id", event.account_id)
        env["account"] = dict(accounts.get(int(account_id), {})) if account_id is not None else {}
        envs.append(env)
    return envs
