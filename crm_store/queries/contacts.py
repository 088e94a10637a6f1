"""Scoped contact look-ups ("who is jane@acme.example?")."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_store.errors import InvalidInputError
from crm_store.models import Account, Contact
from crm_store.queries._common import normalize_email
from crm_store.queries.visibility import contact_filter
from crm_store.scope import Scope


def find_contacts_by_email(
    *, session: Session, scope: Scope, email: str, limit: int = 5
) -> list[Contact]:
    """Contacts with this email (case-insensitive) that `scope` may see, with their account.

    The same address can sit on contacts of two accounts (a consultant, a reseller), so this
    returns a list; an invalid address is simply not found.
    """
    try:
        address = normalize_email(email)
    except InvalidInputError:
        return []
    stmt = (
        select(Contact)
        .where(func.lower(Contact.email) == address, contact_filter(scope))
        .options(selectinload(Contact.account).selectinload(Account.owner))
        .order_by(Contact.id)
        .limit(max(1, limit))
    )
    return list(session.scalars(stmt))
