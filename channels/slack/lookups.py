"""CRM look-ups for agents in Slack, answered as mrkdwn with the asker's own scope.

Every function takes the session and the verified `Scope` of the Slack user's linked CRM user,
and goes through `crm_store.queries`, so Slack sees exactly what the same person sees in the
rep console: a support agent sees every account but no pipeline, a rep their own accounts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from channels.slack.mrkdwn import day, escape, money
from crm_store import Scope
from crm_store.queries.accounts import account_summary, clear_winner, resolve_account
from crm_store.queries.contacts import find_contacts_by_email
from crm_store.queries.deals import list_open_deals
from crm_store.queries.orders import get_order
from crm_store.queries.tickets import get_ticket, list_tickets

MAX_ROWS = 10


class AccountChoice(Exception):
    """The account name matched none, or several equally well; the message says which."""


def pick_account(session: Session, scope: Scope, name: str) -> tuple[int, str]:
    """The one visible account `name` designates, as (id, name).

    Raises:
        AccountChoice: no visible account matches, or the best ones are too close to call.
    """
    matches = resolve_account(session=session, scope=scope, name=name)
    winner = clear_winner(matches)
    if winner is not None:
        return winner.account_id, winner.name
    if not matches:
        raise AccountChoice(f"I found no account matching “{escape(name)}” that you can see.")
    names = ", ".join(f"*{escape(m.name)}*" for m in matches)
    raise AccountChoice(f"Which account did you mean: {names}? Ask again with the full name.")


def who_is(session: Session, scope: Scope, email: str) -> str:
    """The contacts with this email, their title, phone and account."""
    contacts = find_contacts_by_email(session=session, scope=scope, email=email)
    if not contacts:
        return f"I found no contact with the email {escape(email)} that you can see."
    lines = []
    for c in contacts:
        owner = c.account.owner.name if c.account.owner else "no owner"
        title = f", {escape(c.title)}" if c.title else ""
        phone = f" · {escape(c.phone)}" if c.phone else ""
        lines.append(
            f"*{escape(c.first_name)} {escape(c.last_name)}*{title} — {escape(c.email)}{phone}\n"
            f"Account: *{escape(c.account.name)}* (owner {escape(owner)})"
        )
    return "\n".join(lines)


def account(session: Session, scope: Scope, name: str) -> str:
    """Owner, open deals and tickets, last activity and churn risk of one account."""
    account_id, _ = pick_account(session, scope, name)
    s = account_summary(session=session, scope=scope, account_id=account_id)
    if s is None:  # deleted between the two queries
        return f"I found no account matching “{escape(name)}” that you can see."
    churn = f"{s.churn_score:.0%} ({escape(s.churn_label)})" if s.churn_score is not None else "—"
    last = (f"{day(s.last_activity_at)}: {escape(s.last_activity_subject)}"
            if s.last_activity_at else "—")  # fmt: skip
    return (
        f"*{escape(s.name)}* ({escape(s.status)}) — owner {escape(s.owner_name or 'none')}\n"
        f"Open deals: {s.open_deal_count} worth {money(s.open_deal_amount)} · "
        f"open tickets: {s.open_ticket_count}\n"
        f"Last activity: {last}\nChurn risk: {churn}"
    )


def open_tickets(session: Session, scope: Scope, name: str) -> str:
    """An account's open tickets, newest first."""
    account_id, account_name = pick_account(session, scope, name)
    tickets = list_tickets(
        session=session, scope=scope, account_id=account_id, open_only=True, limit=MAX_ROWS
    )
    if not tickets:
        return f"*{escape(account_name)}* has no open tickets."
    rows = [
        f"• {t.number} — {escape(t.subject)} ({t.status}, {t.priority}, SLA {day(t.sla_due_at)})"
        for t in tickets
    ]
    return f"Open tickets for *{escape(account_name)}*:\n" + "\n".join(rows)


def open_deals(session: Session, scope: Scope, name: str) -> str:
    """An account's open deals, soonest close first (none for roles without pipeline)."""
    account_id, account_name = pick_account(session, scope, name)
    deals = list_open_deals(session=session, scope=scope, account_id=account_id)[:MAX_ROWS]
    if not deals:
        return f"No open deals you can see for *{escape(account_name)}*."
    rows = [
        f"• {escape(d.name)} — {money(d.amount, d.currency)}, {d.stage}, "
        f"closes {d.close_date or '—'}"
        for d in deals
    ]
    return f"Open deals for *{escape(account_name)}*:\n" + "\n".join(rows)


def order(session: Session, scope: Scope, number: str) -> str:
    """One order: account, status, dates, total and tracking."""
    o = get_order(session=session, scope=scope, number=number)
    if o is None:
        return f"I found no order {escape(number.upper())} that you can see."
    tracking = f" · tracking {escape(o.tracking_number)}" if o.tracking_number else ""
    return (
        f"*{o.number}* for *{escape(o.account.name)}*: {o.status}, placed {day(o.placed_at)}, "
        f"shipped {day(o.shipped_at)}, total {money(o.total, o.currency)}{tracking}"
    )


def ticket(session: Session, scope: Scope, number: str) -> str:
    """One ticket: subject, status, priority, SLA and account."""
    t = get_ticket(session=session, scope=scope, number=number)
    if t is None:
        return f"I found no ticket {escape(number.upper())} that you can see."
    where = f" for *{escape(t.account.name)}*" if t.account else ""
    return (
        f"*{t.number}*{where}: {escape(t.subject)} — {t.status}, {t.priority} priority, "
        f"SLA {day(t.sla_due_at)}, opened {day(t.created_at)}"
    )
