"""Lead capture (e.g. by the website bot)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_store.models import Lead
from crm_store.queries._common import normalize_email, require_text
from crm_store.queries.events import emit_event


def create_lead(
    *,
    session: Session,
    name: str,
    email: str,
    company: str | None,
    need: str | None,
    source: str = "web_chat",
) -> Lead:
    """Record a new lead; it is unowned until a rule or a manager assigns it.

    Raises:
        InvalidInputError: empty name or an invalid email address.
    """
    lead = Lead(
        name=require_text(name, "name", 200),
        email=normalize_email(email),
        company=(company or "").strip()[:200] or None,
        need=(need or "").strip()[:5000] or None,
        source=require_text(source, "source", 50),
    )
    session.add(lead)
    session.flush()
    emit_event(
        session=session,
        type="lead_created",
        subject_type="lead",
        subject_id=lead.id,
        payload={"source": lead.source},
    )
    session.flush()
    return lead
