"""Account cards for the rep console: facts, open deals and tickets, churn and next action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException

from channels.api.deps import CurrentRep, SessionDep
from channels.api.routes.accounts import AccountId
from channels.console_schemas import AccountCardPublic

if TYPE_CHECKING:
    from predict.card import AccountCard

router = APIRouter(prefix="/accounts", tags=["console"])


@router.get(
    "/{account_id}/card",
    response_model=AccountCardPublic,
    responses={401: {"description": "Missing or invalid token"}, 403: {}, 404: {}},
)
def read_account_card(
    session: SessionDep, scope: CurrentRep, account_id: AccountId
) -> AccountCardPublic:
    """The account card: owner, open deals, open tickets, churn risk and next best action."""
    # Imported here: the models' libraries (pandas, scikit-learn) take seconds to load, and
    # only this route needs them, so the API starts without paying for them.
    from predict.card import account_card

    card = account_card(session=session, scope=scope, account_id=account_id)
    if card is None:
        raise HTTPException(status_code=404, detail="Account not found.")
    return _public(card)


def _public(card: AccountCard) -> AccountCardPublic:
    summary = card.summary
    return AccountCardPublic.model_validate(
        {
            **{name: getattr(summary, name) for name in _SUMMARY_FIELDS},
            "id": summary.account_id,
            "segment": card.segment,
            "deals": card.deals,
            "tickets": card.tickets,
            "churn": card.churn,
            "next_action": card.next_action,
            "notes": card.notes,
        },
        from_attributes=True,
    )


_SUMMARY_FIELDS = (
    "name", "industry", "country", "status", "owner_name", "owner_email", "open_deal_count",
    "open_deal_amount", "open_ticket_count", "last_activity_at", "last_activity_subject",
)  # fmt: skip
