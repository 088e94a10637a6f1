"""The access rules, written once as SQL filters that every scoped query applies.

- rep: accounts they own (and deals they own);
- manager: accounts owned by anyone in their team;
- support_agent: every account, contact, order and ticket, but no deals or pipeline;
- admin: everything;
- customer: their own contact's account, and its orders and tickets;
- anonymous: nothing (only the explicit order/ticket number + email checks).

Conversations belong to the rep who owns the customer's account (through the conversation's
contact, or the signed-in customer's contact) and to the staff member who chatted in them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, ScalarSelect, Select, false, or_, select, true

from crm_store.models import (
    Account,
    Activity,
    Contact,
    Conversation,
    Deal,
    Order,
    Task,
    Ticket,
    User,
)
from crm_store.models.enums import Role
from crm_store.scope import Scope


def _customer_account_ids(scope: Scope) -> ScalarSelect[int]:
    return select(Contact.account_id).where(Contact.id == scope.contact_id).scalar_subquery()


def _team_member_ids(scope: Scope) -> ScalarSelect[int]:
    return select(User.id).where(User.team_id == scope.team_id).scalar_subquery()


def _owned_by_scope(owner_col: ColumnElement[int | None], scope: Scope) -> ColumnElement[bool]:
    """Rows whose owner is the rep, or anyone in the manager's team."""
    if scope.role is Role.manager and scope.team_id is not None:
        return owner_col.in_(_team_member_ids(scope))
    return owner_col == scope.user_id


def account_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause on `Account` selecting the accounts `scope` may see."""
    if scope.user_id is None:
        return false()
    if scope.role in (Role.admin, Role.support_agent):
        return true()
    if scope.role is Role.customer:
        if scope.contact_id is None:
            return false()
        return Account.id == _customer_account_ids(scope)
    return _owned_by_scope(Account.owner_id, scope)


def visible_account_ids(scope: Scope) -> Select[tuple[int]]:
    """SELECT of the ids of the accounts `scope` may see (for `IN (...)` filters)."""
    return select(Account.id).where(account_filter(scope))


def _by_account(account_col: ColumnElement[int | None], scope: Scope) -> ColumnElement[bool]:
    if scope.user_id is None:
        return false()
    if scope.role in (Role.admin, Role.support_agent):
        return true()
    return account_col.in_(visible_account_ids(scope))


def contact_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause on `Contact`; a customer sees only their own contact."""
    if scope.role is Role.customer:
        return Contact.id == scope.contact_id if scope.user_id and scope.contact_id else false()
    return _by_account(Contact.account_id, scope)


def deal_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause on `Deal`; support agents and customers see no pipeline."""
    if scope.user_id is None or scope.role in (Role.support_agent, Role.customer):
        return false()
    if scope.role is Role.admin:
        return true()
    return or_(
        Deal.account_id.in_(visible_account_ids(scope)), _owned_by_scope(Deal.owner_id, scope)
    )


def order_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause on `Order`."""
    return _by_account(Order.account_id, scope)


def ticket_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause on `Ticket`; staff also see unlinked tickets only if agent or admin."""
    return _by_account(Ticket.account_id, scope)


def activity_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause on `Activity`; customers never see internal activity."""
    if scope.role is Role.customer:
        return false()
    return _by_account(Activity.account_id, scope)


def task_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause on `Task`: staff see their own tasks and those on visible accounts."""
    if scope.user_id is None or scope.role is Role.customer:
        return false()
    if scope.role is Role.admin:
        return true()
    return or_(
        _owned_by_scope(Task.owner_id, scope),
        Task.account_id.in_(visible_account_ids(scope)),
    )


def conversation_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause on `Conversation`.

    Admins and support agents see every conversation (agents answer handoffs from anyone);
    a rep sees the conversations of customers at their accounts and their own chats with the
    assistant, a manager those of the whole team; a customer only their own.
    """
    if scope.user_id is None:
        return false()
    if scope.role in (Role.admin, Role.support_agent):
        return true()
    if scope.role is Role.customer:
        return Conversation.user_id == scope.user_id
    contacts = select(Contact.id).where(Contact.account_id.in_(visible_account_ids(scope)))
    customers = select(User.id).where(User.contact_id.in_(contacts))
    return or_(
        Conversation.contact_id.in_(contacts),
        Conversation.user_id.in_(customers),
        _owned_by_scope(Conversation.user_id, scope),
    )
