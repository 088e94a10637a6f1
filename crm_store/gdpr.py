"""GDPR requests about one person, found by email: export everything, or erase it.

What identifies the person: users, contacts and leads with that email (case-insensitive).
What is theirs: the orders and tickets placed with the email or by their contacts, the
activities about their contacts, the conversations of their users or contacts, the events
about those records, and the scores of an account when they are its only contact (then the
"account" is the person). Anything else in any table whose text mentions the email is found
by a scan of every text and JSON column, so tables added later (handoffs, notifications) are
covered without being listed here.

Erasure anonymises rather than deletes where other records depend on a row: contacts, leads
and users keep their ids (orders keep their totals, deals their accounts) but lose every
personal field; conversation messages are deleted; tokens are revoked and the Slack link
removed; what remains anywhere that mentions the email is masked. Running it twice changes
nothing the second time. The knowledge index is the retrieval package's part
(`retrieval.privacy`), since the store must not depend on it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    String,
    Table,
    Text,
    cast,
    delete,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError
from crm_store.models import (
    Account,
    Activity,
    ApiToken,
    Base,
    Contact,
    Conversation,
    CrmEvent,
    Handoff,
    Lead,
    Message,
    Order,
    PredictionScore,
    Subscription,
    Task,
    Ticket,
    User,
    utcnow,
)
from crm_store.rasa_trackers import erase_events, export_events, sender_ids
from crm_store.redaction import EMAIL, redact

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be a real mailbox
NAME = "[name]"
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# What `export` leaves out even when it is about the person: secrets, not personal data.
_SECRET_COLUMNS = frozenset({("api_tokens", "token_hash")})


@dataclass
class Person:
    """The rows that identify one person and the records that are theirs."""

    email: str
    users: list[User] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    personal_accounts: list[Account] = field(default_factory=list)
    events: list[CrmEvent] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Full names to mask in free text, longest first (so "Nora Fields" before "Nora")."""
        found = {c.full_name for c in self.contacts} | {u.name for u in self.users}
        found |= {lead.name for lead in self.leads}
        return sorted((n for n in found if len(n.strip()) >= 3), key=len, reverse=True)


def normalise_email(email: str) -> str:
    """The email as the store keeps it (trimmed, lower case).

    Raises:
        InvalidInputError: not shaped like an email address.
    """
    value = (email or "").strip().lower()
    if not _EMAIL_SHAPE.match(value):
        raise InvalidInputError(f"not an email address: {email!r}")
    return value


def find_person(*, session: Session, email: str) -> Person:
    """Everything the store holds that is about the person with this email."""
    person = Person(email=normalise_email(email))
    _find_identities(session, person)
    _find_records(session, person)
    _find_conversations(session, person)
    person.personal_accounts = _personal_accounts(session, person.contacts)
    person.events = _events(session, person)
    return person


def _ids(rows: list[Any]) -> list[int]:
    """Row ids for an `IN (...)`; [-1] (no row) rather than an empty list."""
    return [row.id for row in rows] or [-1]


def _find_identities(session: Session, person: Person) -> None:
    """Users, contacts and leads with the email (a customer user's contact too)."""
    needle = person.email
    person.users = list(session.scalars(select(User).where(func.lower(User.email) == needle)))
    linked = sorted({u.contact_id for u in person.users if u.contact_id}) or [-1]
    person.contacts = list(session.scalars(
        select(Contact).where(or_(func.lower(Contact.email) == needle, Contact.id.in_(linked)))
    ))  # fmt: skip
    person.leads = list(session.scalars(select(Lead).where(func.lower(Lead.email) == needle)))


def _find_records(session: Session, person: Person) -> None:
    """Orders, tickets, activities and tasks placed by, linked to or naming the person."""
    needle, cids = person.email, _ids(person.contacts)
    person.orders = list(session.scalars(
        select(Order).where(or_(func.lower(Order.email) == needle, Order.contact_id.in_(cids)))
        .order_by(Order.id)
    ))  # fmt: skip
    person.tickets = list(session.scalars(
        select(Ticket).where(or_(func.lower(Ticket.email) == needle, Ticket.contact_id.in_(cids)))
        .order_by(Ticket.id)
    ))  # fmt: skip
    named = _named_on_their_accounts(person.contacts)
    person.activities = list(session.scalars(
        select(Activity)
        .where(or_(Activity.contact_id.in_(cids), named(Activity, Activity.subject, Activity.body)))
        .order_by(Activity.id)
    ))  # fmt: skip
    person.tasks = list(session.scalars(
        select(Task).where(named(Task, Task.title, Task.description)).order_by(Task.id)
    ))  # fmt: skip


def _find_conversations(session: Session, person: Person) -> None:
    """Chats of their user or contact, and anonymous chats handed over with their email."""
    handed_over = select(Handoff.conversation_id).where(
        func.lower(Handoff.customer_email) == person.email
    )
    person.conversations = list(session.scalars(
        select(Conversation)
        .where(or_(
            Conversation.user_id.in_(_ids(person.users)),
            Conversation.contact_id.in_(_ids(person.contacts)),
            Conversation.id.in_(handed_over),
        ))
        .order_by(Conversation.id)
    ))  # fmt: skip
    person.handoffs = list(session.scalars(
        select(Handoff)
        .where(Handoff.conversation_id.in_(_ids(person.conversations)))
        .order_by(Handoff.id)
    ))  # fmt: skip


def _named_on_their_accounts(contacts: list[Contact]) -> Any:
    """A condition builder: rows of the contacts' accounts whose text names one of them.

    Staff write "Call Nora Fields" without linking the contact; a full name (two words or
    more) on the same account is specific enough to count as being about the person.
    """
    pairs = [(c.account_id, c.full_name.lower()) for c in contacts if " " in c.full_name.strip()]

    def condition(model: Any, *columns: Any) -> Any:
        clauses = [
            (model.account_id == account_id) & or_(*(func.lower(c).contains(name) for c in columns))
            for account_id, name in pairs
        ]
        return or_(*clauses) if clauses else false()

    return condition


def _personal_accounts(session: Session, contacts: list[Contact]) -> list[Account]:
    """Accounts whose only contact is this person: their scores are about the person."""
    accounts = []
    for account_id in sorted({c.account_id for c in contacts}):
        count = session.scalar(
            select(func.count(Contact.id)).where(Contact.account_id == account_id)
        )
        if count == 1:
            accounts.append(session.get(Account, account_id))
    return [a for a in accounts if a is not None]


def _events(session: Session, person: Person) -> list[CrmEvent]:
    subjects = {
        "lead": [r.id for r in person.leads],
        "ticket": [r.id for r in person.tickets],
        "conversation": [r.id for r in person.conversations],
        "account": [r.id for r in person.personal_accounts],
    }
    clauses = [
        (CrmEvent.subject_type == kind) & CrmEvent.subject_id.in_(ids)
        for kind, ids in subjects.items()
        if ids
    ]
    if not clauses:
        return []
    return list(session.scalars(select(CrmEvent).where(or_(*clauses)).order_by(CrmEvent.id)))


# --- export ------------------------------------------------------------------------------


def export_person(
    *, session: Session, email: str, tracker_url: str | None = None
) -> dict[str, Any]:
    """Everything held about the person, as JSON-ready data (Article 15 / 20).

    Args:
        session: The CRM store.
        email: The person's address (any case).
        tracker_url: Rasa's SQL tracker store (`CRM_RASA_TRACKER_URL`); when given, the
            export also holds `rasa_tracker_events`, the raw dialogue Rasa keeps.

    Returns:
        A dict with one list per kind of record (`users`, `contacts`, `leads`, `orders` with
        their lines, `tickets`, `activities` and `tasks` (linked to or naming their
        contacts), `conversations` with their messages,
        `handoffs` (with their CSAT), `predictions`, `events`) and `other_mentions`: rows of
        any table whose text mentions the email that are not in the lists above.
    """
    person = find_person(session=session, email=email)
    data: dict[str, Any] = {
        "email": person.email,
        "exported_at": utcnow().isoformat(),
        "users": [_user(session, u) for u in person.users],
        "contacts": [
            {**row_dict(c), "account": {"id": c.account.id, "name": c.account.name}}
            for c in person.contacts
        ],
        "leads": [row_dict(lead) for lead in person.leads],
        "orders": [_order(o) for o in person.orders],
        "tickets": [row_dict(t) for t in person.tickets],
        "activities": [row_dict(a) for a in person.activities],
        "tasks": [row_dict(t) for t in person.tasks],
        "conversations": [_conversation(c) for c in person.conversations],
        "handoffs": [row_dict(h) for h in person.handoffs],
        "predictions": [
            row_dict(p)
            for p in session.scalars(
                select(PredictionScore)
                .where(PredictionScore.account_id.in_([a.id for a in person.personal_accounts]))
                .order_by(PredictionScore.id)
            )
        ],
        "events": [row_dict(e) for e in person.events],
    }
    data["other_mentions"] = _other_mentions(session, person.email, data)
    if tracker_url:
        senders = sender_ids(person.conversations)
        data["rasa_tracker_events"] = export_events(
            url=tracker_url, senders=senders, email=person.email
        )
    return data


def export_counts(data: dict[str, Any]) -> dict[str, int]:
    """How many records of each kind an export holds (for the CLI's summary)."""
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    counts["messages"] = sum(len(c["messages"]) for c in data["conversations"])
    counts["other_mentions"] = sum(len(rows) for rows in data["other_mentions"].values())
    return counts


def _user(session: Session, user: User) -> dict[str, Any]:
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))
    return {**row_dict(user), "tokens": [row_dict(t) for t in tokens]}


def _order(order: Order) -> dict[str, Any]:
    lines = [
        {**row_dict(line), "sku": line.product.sku, "product": line.product.name}
        for line in order.lines
    ]
    return {**row_dict(order), "lines": lines}


def _conversation(conversation: Conversation) -> dict[str, Any]:
    return {**row_dict(conversation), "messages": [row_dict(m) for m in conversation.messages]}


def _other_mentions(
    session: Session, needle: str, exported: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    seen = {
        (table, row["id"])
        for table, key in [
            ("users", "users"), ("contacts", "contacts"), ("leads", "leads"),
            ("orders", "orders"), ("tickets", "tickets"), ("activities", "activities"),
            ("tasks", "tasks"), ("conversations", "conversations"), ("crm_events", "events"),
            ("handoffs", "handoffs"),
        ]
        for row in exported[key]
    }  # fmt: skip
    seen |= {("messages", m["id"]) for c in exported["conversations"] for m in c["messages"]}
    found: dict[str, list[dict[str, Any]]] = {}
    for table, rows in mentions(session=session, needle=needle).items():
        kept = [r for r in rows if (table.name, r.get("id")) not in seen]
        if kept:
            found[table.name] = [_jsonable_row(table.name, r) for r in kept]
    return found


def row_dict(obj: Any) -> dict[str, Any]:
    """An ORM row's columns as JSON-ready values (secrets left out)."""
    table = obj.__table__.name
    return _jsonable_row(
        table, {a.columns[0].name: getattr(obj, a.key) for a in sa_inspect(obj).mapper.column_attrs}
    )


def _jsonable_row(table: str, row: dict[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in row.items() if (table, k) not in _SECRET_COLUMNS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


# --- the scan of every table ------------------------------------------------------------


def text_columns(table: Table) -> list[Any]:
    """The columns of `table` that can hold free text (strings and JSON)."""
    return [c for c in table.columns if isinstance(c.type, String | Text | JSON)]


def mentions(*, session: Session, needle: str) -> dict[Table, list[dict[str, Any]]]:
    """Rows of every table with a text or JSON column containing `needle` (any case)."""
    found: dict[Table, list[dict[str, Any]]] = {}
    lowered = needle.lower()
    for table in Base.metadata.sorted_tables:
        columns = text_columns(table)
        if not columns:
            continue
        condition = or_(*(func.lower(cast(c, Text)).contains(lowered) for c in columns))
        rows = [dict(r._mapping) for r in session.execute(select(table).where(condition))]
        if rows:
            found[table] = rows
    return found


# --- erasure -----------------------------------------------------------------------------


@dataclass
class ErasureReport:
    """What an erasure changed, by kind; all zero when there was nothing left to erase."""

    email: str
    changed: Counter[str] = field(default_factory=Counter)

    @property
    def nothing_found(self) -> bool:
        """True when the store held nothing about the person (e.g. a second run)."""
        return not any(self.changed.values())


def erase_person(*, session: Session, email: str, tracker_url: str | None = None) -> ErasureReport:
    """Erase or anonymise everything about the person (Article 17); idempotent.

    Keeps the rows other records point to (contacts, leads, users, orders, tickets) with
    their personal fields cleared, so sales totals and ticket counts stay right.

    Rasa's tracker store (when `tracker_url` is given) is erased first, in its own
    transaction: if that fails nothing in the CRM has changed, and a rerun still finds the
    person; the tracker erasure itself is idempotent.

    Returns:
        The counts of what changed, for the caller to print.
    """
    person = find_person(session=session, email=email)
    report = ErasureReport(email=person.email)
    if tracker_url:
        deleted, masked = erase_events(
            url=tracker_url, senders=sender_ids(person.conversations), email=person.email
        )
        report.changed["Rasa tracker events deleted"] += deleted
        report.changed["Rasa tracker events masked"] += masked
    names = person.names  # before the identities lose them
    _anonymise_identities(session, person, report)
    _scrub_records(person, names, report)
    _erase_conversations(session, person, report)
    _erase_personal_accounts(session, person, report)
    session.flush()
    report.changed["other rows masked"] += scrub_mentions(session=session, needle=person.email)
    session.flush()
    report.changed = +report.changed  # drop the zero counts
    return report


def _anonymise_identities(session: Session, person: Person, report: ErasureReport) -> None:
    """Contacts, leads and users keep their ids (others point to them), nothing personal."""
    for contact in person.contacts:
        contact.first_name, contact.last_name = "Erased", f"contact {contact.id}"
        contact.email = contact.phone = contact.title = None
        report.changed["contacts anonymised"] += 1
    for lead in person.leads:
        lead.name, lead.email = "Erased lead", f"lead-{lead.id}@{ERASED_DOMAIN}"
        lead.need = None
        report.changed["leads anonymised"] += 1
    for user in person.users:
        _erase_user(session, user, report)


def _scrub_records(person: Person, names: list[str], report: ErasureReport) -> None:
    """Orders and tickets lose the email; free texts about the person lose PII and `names`."""

    def scrub(text: str | None, limit: int | None = None) -> str:
        return _scrub(text, person.email, names)[:limit]

    for order in person.orders:
        order.email = None
        report.changed["orders unlinked from the email"] += 1
    for ticket in person.tickets:
        ticket.email, ticket.subject = None, scrub(ticket.subject, 200)
        ticket.description = scrub(ticket.description)
        report.changed["tickets scrubbed"] += 1
    for activity in person.activities:
        activity.subject, activity.body = scrub(activity.subject, 200), scrub(activity.body)
        report.changed["activities scrubbed"] += 1
    for task in person.tasks:
        task.title, task.description = scrub(task.title, 200), scrub(task.description)
        report.changed["tasks scrubbed"] += 1


def _erase_user(session: Session, user: User, report: ErasureReport) -> None:
    user.email, user.name = f"user-{user.id}@{ERASED_DOMAIN}", "Erased user"
    user.is_active = False
    if user.slack_user_id:
        user.slack_user_id = None
        report.changed["Slack links removed"] += 1
    revoked = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    report.changed["users anonymised"] += 1
    report.changed["tokens revoked"] += revoked or 0


def _erase_conversations(session: Session, person: Person, report: ErasureReport) -> None:
    ids = [c.id for c in person.conversations]
    if not ids:
        return
    deleted = session.execute(delete(Message).where(Message.conversation_id.in_(ids))).rowcount
    report.changed["messages deleted"] += deleted or 0
    report.changed["conversations emptied"] += len(ids)
    for handoff in person.handoffs:
        if handoff.customer_email is not None:
            handoff.customer_email = None
            report.changed["handoffs unlinked from the email"] += 1


def _erase_personal_accounts(session: Session, person: Person, report: ErasureReport) -> None:
    """A one-person account's scores and demographics describe that person: remove them."""
    ids = [a.id for a in person.personal_accounts]
    if not ids:
        return
    scores = session.execute(delete(PredictionScore).where(PredictionScore.account_id.in_(ids)))
    report.changed["scores deleted"] += scores.rowcount or 0
    demographics = session.execute(
        update(Subscription)
        .where(Subscription.account_id.in_(ids))
        .values(gender=None, senior_citizen=None, partner=None, dependents=None)
    )
    report.changed["subscription demographics cleared"] += demographics.rowcount or 0


def scrub_mentions(*, session: Session, needle: str) -> int:
    """Mask `needle` (any case) in every text and JSON column of every table.

    Returns:
        How many rows changed.
    """
    changed = 0
    for table, rows in mentions(session=session, needle=needle).items():
        columns = text_columns(table)
        keys = [c for c in table.primary_key.columns]
        for row in rows:
            values = {
                c.name: mask_text(row[c.name], needle) for c in columns if row[c.name] is not None
            }
            values = {k: v for k, v in values.items() if v != row[k]}
            if values:
                where = [k == row[k.name] for k in keys]
                session.execute(update(table).where(*where).values(**values))
                changed += 1
    return changed


def mask_text(value: Any, needle: str) -> Any:
    """`value` with `needle` (any case) replaced by `[email]` in every string inside it.

    Strings, and the lists and dicts of a JSON column; other values come back unchanged.
    """
    if isinstance(value, str):
        return re.sub(re.escape(needle), EMAIL, value, flags=re.IGNORECASE)
    if isinstance(value, list):
        return [mask_text(v, needle) for v in value]
    if isinstance(value, dict):
        return {k: mask_text(v, needle) for k, v in value.items()}
    return value


def _scrub(text: str | None, email: str, names: list[str]) -> str:
    """Free text about the person: PII masked, their email and names replaced."""
    out = redact(text or "")
    out = mask_text(out, email)
    for name in names:
        out = re.sub(rf"\b{re.escape(name)}\b", NAME, out, flags=re.IGNORECASE)
    return out


def dumps(data: dict[str, Any]) -> str:
    """The export as indented JSON text (non-ASCII kept readable)."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
