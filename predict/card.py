"""The account card: the store's facts about one account next to what the models say about it.

It lives in `predict` because it is the one service that may use both the store and the
models (rules -> predict -> crm_store). A model that is missing or cannot score the account
narrows the card (no churn, a plainer next action), it never fails it: the facts still help.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Deal, PredictionScore, Ticket
from crm_store.queries.accounts import AccountSummary, account_summary
from crm_store.queries.deals import list_open_deals
from crm_store.queries.tickets import list_tickets
from crm_store.scope import Scope
from predict.errors import PredictError
from predict.reasons import Reason
from predict.service import HIGH_RISK, MEDIUM_RISK, NextBestAction, next_best_action

logger = logging.getLogger(__name__)

SHOWN_REASONS = 3
SHOWN_TICKETS = 20


@dataclass(frozen=True)
class ChurnView:
    """Churn risk as the card shows it.

    Attributes:
        probability: churn probability in [0, 1].
        risk: 'high', 'medium' or 'low'.
        model_version: the model that produced it.
        scored_at: when (now for a live score, the batch time for a stored one).
        live: True when scored just now with reasons; False for the stored batch score,
            whose reasons name features only.
        raising: the strongest reasons raising the risk, largest first.
        lowering: the strongest reasons lowering it, largest first.
    """

    probability: float
    risk: str
    model_version: str
    scored_at: datetime
    live: bool
    raising: list[Reason]
    lowering: list[Reason]


@dataclass(frozen=True)
class AccountCard:
    """Everything the rep console shows about one account.

    Attributes:
        summary: owner, counts and amounts from the store.
        deals: the open deals, soonest close first.
        tickets: the open tickets, newest first.
        churn: the churn risk, or None when no model can score the account.
        next_action: the next best action and the products to offer, or None when the
            models could not be used at all.
        segment: the account's latest customer segment, if any.
        notes: why a part is missing, in words (e.g. "no churn model has been trained").
    """

    summary: AccountSummary
    deals: list[Deal]
    tickets: list[Ticket]
    churn: ChurnView | None
    next_action: NextBestAction | None
    segment: str | None
    notes: list[str]


def _risk(probability: float) -> str:
    if probability >= HIGH_RISK:
        return "high"
    return "medium" if probability >= MEDIUM_RISK else "low"


def _latest(session: Session, account_id: int, kind: str) -> PredictionScore | None:
    stmt = (
        select(PredictionScore)
        .where(PredictionScore.account_id == account_id, PredictionScore.kind == kind)
        .order_by(PredictionScore.scored_at.desc(), PredictionScore.id.desc())
    )
    return session.scalars(stmt.limit(1)).first()


def _stored_churn(session: Session, account_id: int) -> ChurnView | None:
    """The last batch score, for when the model cannot score live (reasons: features only)."""
    row = _latest(session, account_id, "churn")
    if row is None or row.score is None:
        return None
    reasons = [
        Reason(feature=str(r["feature"]), value=None, text=str(r["feature"]),
               effect=float(r["effect"]))
        for r in row.reasons or [] if isinstance(r, dict) and "feature" in r and "effect" in r
    ]  # fmt: skip
    return ChurnView(
        probability=float(row.score), risk=row.label or _risk(float(row.score)),
        model_version=row.model_version, scored_at=row.scored_at, live=False,
        raising=[r for r in reasons if r.effect > 0][:SHOWN_REASONS],
        lowering=[r for r in reasons if r.effect < 0][:SHOWN_REASONS],
    )  # fmt: skip


def _advice(
    session: Session, scope: Scope, account_id: int, notes: list[str]
) -> NextBestAction | None:
    """Next best action (which carries the live churn score), or None with a note."""
    try:
        return next_best_action(session, account_id, scope=scope)
    except PredictError as exc:
        # e.g. the store no longer matches the model's inputs: say so, show the facts.
        logger.warning("Account card without predictions: %s", type(exc).__name__)
        notes.append(f"Predictions are unavailable: {exc}")
        return None


def account_card(*, session: Session, scope: Scope, account_id: int) -> AccountCard | None:
    """Build the card of one account.

    Returns:
        The card; None when the account does not exist or `scope` may not see it.
    """
    summary = account_summary(session=session, scope=scope, account_id=account_id)
    if summary is None:
        return None
    notes: list[str] = []
    advice = _advice(session, scope, account_id, notes)
    result = advice.churn if advice else None
    churn = (
        ChurnView(
            probability=result.probability,
            risk=result.risk,
            model_version=result.model_version,
            scored_at=result.scored_at,
            live=True,
            raising=result.raising(SHOWN_REASONS),
            lowering=result.lowering(SHOWN_REASONS),
        )  # fmt: skip
        if result is not None
        else _stored_churn(session, account_id)
    )
    if churn is None:
        notes.append("No churn score: no model has scored this account yet.")
    segment = _latest(session, account_id, "segment")
    return AccountCard(
        summary=summary,
        deals=list_open_deals(session=session, scope=scope, account_id=account_id),
        tickets=list_tickets(
            session=session,
            scope=scope,
            account_id=account_id,
            open_only=True,
            limit=SHOWN_TICKETS,
        ),  # fmt: skip
        churn=churn,
        next_action=advice,
        segment=segment.label if segment else None,
        notes=notes,
    )
