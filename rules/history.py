"""What the automations did, in a rep's words: the audit trail read back for people.

`crm rules stats` counts firings for the operations person; a rep asking the bot "what did
the automations do for Acme this week?" wants sentences instead: which rule, about which deal
or ticket, and what it did ("created the task “Save call with Acme Corp” for Alice Moreno,
due 2 Dec"). Only firings on accounts the asker may see are read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.models import Account, Conversation, CrmEvent, Deal, Lead, RuleFiring, Task, Ticket
from crm_store.models import User as UserModel
from crm_store.queries.visibility import visible_account_ids
from crm_store.scope import Scope
from rules.loader import RuleSet

DEFAULT_LIMIT = 8


@dataclass(frozen=True)
class AutomationEntry:
    """One firing, told as a rep would tell it.

    Attributes:
        rule: the rule's name; `purpose` is its description from the rule file.
        about: the record the event was about ("deal Acme renewal", "ticket TCK-1001").
        did: what the actions did, one clause per action, or why the firing failed.
    """

    fired_at: datetime
    rule: str
    purpose: str
    account: str | None
    about: str
    did: str
    failed: bool


@dataclass(frozen=True)
class AutomationHistory:
    """The latest firings (newest first) and how many there were in all."""

    total: int
    failed: int
    entries: list[AutomationEntry]


def automation_history(
    *,
    session: Session,
    scope: Scope,
    since: datetime,
    account_id: int | None = None,
    ruleset: RuleSet | None = None,
    limit: int = DEFAULT_LIMIT,
) -> AutomationHistory:
    """Firings since `since` on the accounts `scope` may see (or on one of them).

    Args:
        ruleset: the rule files, for each rule's description; firings of rules no longer in
            the files are still told, by name.
        limit: how many entries to describe (the newest); `total` counts them all.
    """
    where = [CrmEvent.account_id.in_(visible_account_ids(scope)), RuleFiring.fired_at >= since]
    if account_id is not None:
        where.append(CrmEvent.account_id == account_id)
    base = select(RuleFiring, CrmEvent).join(CrmEvent, CrmEvent.id == RuleFiring.event_id)
    counts = session.execute(
        select(func.count(), func.count().filter(RuleFiring.status == "failed"))
        .select_from(RuleFiring).join(CrmEvent, CrmEvent.id == RuleFiring.event_id).where(*where)
    ).one()  # fmt: skip
    rows = session.execute(
        base.where(*where).order_by(RuleFiring.fired_at.desc(), RuleFiring.id.desc()).limit(limit)
    ).all()
    names = _Names.load(session, [event for _, event in rows], [f for f, _ in rows])
    entries = [_entry(firing, event, names, ruleset) for firing, event in rows]
    return AutomationHistory(total=counts[0], failed=counts[1] or 0, entries=entries)


@dataclass
class _Names:
    """Display names for the records and people a page of firings mentions (one query each)."""

    records: dict[tuple[str, int], str]
    accounts: dict[int, str]
    users: dict[int, str]
    tasks: dict[int, str]

    @classmethod
    def load(cls, session: Session, events: list[CrmEvent], firings: list[RuleFiring]) -> _Names:
        wanted: dict[str, set[int]] = defaultdict(set)
        for event in events:
            if event.subject_id is not None:
                wanted[event.subject_type].add(event.subject_id)
        users: set[int] = set()
        tasks: set[int] = set()
        for firing in firings:
            for result in _results(firing):
                if isinstance(result.get("owner_id"), int):
                    users.add(result["owner_id"])
                tasks.update(_ints([result.get("task_id"), *(result.get("task_ids") or [])]))
        records = {
            (kind, ident): text
            for kind, ids in wanted.items()
            for ident, text in _record_names(session, kind, ids).items()
        }
        account_ids = {e.account_id for e in events if e.account_id is not None}
        return cls(
            records=records,
            accounts=_lookup(session, Account.id, Account.name, account_ids),
            users=_lookup(session, UserModel.id, UserModel.name, users),
            tasks=_lookup(session, Task.id, Task.title, tasks),
        )


def _ints(values: Iterable[Any]) -> list[int]:
    return [v for v in values if isinstance(v, int)]


def _results(firing: RuleFiring) -> list[dict[str, Any]]:
    return [r for r in (firing.actions or []) if isinstance(r, dict)]


def _lookup(session: Session, key: Any, value: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {k: v for k, v in session.execute(select(key, value).where(key.in_(sorted(ids))))}


# How each record kind is named in a sentence: (model column for the name, the words around it).
_RECORD_LABELS: dict[str, tuple[Any, Callable[[Any], str]]] = {
    "deal": (Deal.name, lambda name: f"deal {name}"),
    "lead": (Lead.name, lambda name: f"lead {name}"),
    "ticket": (Ticket.number, lambda number: f"ticket {number}"),
    "task": (Task.title, lambda title: f"task “{title}”"),
    "conversation": (Conversation.id, lambda ident: f"chat #{ident}"),
    "account": (Account.name, lambda name: str(name)),
}


def _record_names(session: Session, kind: str, ids: set[int]) -> dict[int, str]:
    if kind not in _RECORD_LABELS:
        return {}
    column, label = _RECORD_LABELS[kind]
    model = column.class_
    return {ident: label(name) for ident, name in _lookup(session, model.id, column, ids).items()}


def _entry(
    firing: RuleFiring, event: CrmEvent, names: _Names, ruleset: RuleSet | None
) -> AutomationEntry:
    rule = ruleset.get(firing.rule_name) if ruleset is not None else None
    about = names.records.get((event.subject_type, event.subject_id or -1)) or (
        f"{event.subject_type} #{event.subject_id}"
    )
    if firing.status == "failed":
        did = f"could not act: {firing.error or 'unknown error'}"
    else:
        did = "; ".join(describe_action(r, names) for r in _results(firing)) or "did nothing"
    return AutomationEntry(
        fired_at=firing.fired_at, rule=firing.rule_name,
        purpose=(rule.description if rule and rule.description else firing.rule_name),
        account=names.accounts.get(event.account_id) if event.account_id else None,
        about=about, did=did, failed=firing.status == "failed",
    )  # fmt: skip


def _due(text: Any) -> str:
    try:
        return f", due {datetime.fromisoformat(str(text)):%d %b %H:%M} UTC"
    except ValueError:
        return ""


def describe_action(result: Mapping[str, Any], names: _Names) -> str:
    """One action's audit result (`rule_firings.actions[i]`) as a clause a rep understands."""
    kind = result.get("action")
    owner = names.users.get(result.get("owner_id") or -1, "its owner")
    if kind == "create_task":
        title = names.tasks.get(result.get("task_id") or -1, "a follow-up")
        return f"created the task “{title}” for {owner}{_due(result.get('due_at'))}"
    if kind == "assign_owner":
        record = str(result.get("record", "the record")).split(":")[0]
        return f"assigned the {record} to {owner}"
    if kind == "set_field":
        field = str(result.get("field", "a field")).replace(".", "'s ").replace("_", " ")
        return f"set the {field} to {str(result.get('to')).replace('_', ' ')}"
    if kind == "escalate_ticket":
        return (
            f"escalated ticket {result.get('ticket')} from {result.get('from')} to "
            f"{result.get('to')} priority"
        )
    if kind == "notify":
        return f"notified {result.get('to') or 'the team'}"
    if kind == "send_message":
        return "posted a message in the customer's chat"
    if kind == "start_sequence":
        steps = len(result.get("task_ids") or [])
        return f"started the {result.get('sequence')} sequence ({steps} tasks) for {owner}"
    return f"did {kind}"
