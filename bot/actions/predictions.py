"""Churn risk and next best action.

The prediction module is not built yet, so these say so plainly. When a `PredictionScore`
row exists (written by a later batch job or an import) they report it with its model
version and date; they never invent a figure.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from bot.actions.accounts import AccountRequest, ChosenAccount
from bot.actions.base import CrmAction, Events
from bot.actions.identity import scope_from_tracker
from crm_store.db import session_scope
from crm_store.models import PredictionScore
from crm_store.queries.accounts import _latest_churn, get_account, search_accounts
from crm_store.scope import Scope

AT_RISK_SHOWN = 5
AT_RISK_SCANNED = 500


def latest_churn(session: Session, scope: Scope, account_id: int) -> PredictionScore | None:
    """The newest churn score of an account the scope may see, or None.

    Uses the store's own "latest churn row" helper (it also feeds `account_summary`) after a
    scoped visibility check; crm_store has no public score query yet.
    """
    if get_account(session=session, scope=scope, account_id=account_id) is None:
        return None
    return _latest_churn(session, account_id)


def score_values(account: str, row: PredictionScore) -> dict[str, str]:
    """Reply values for one stored score: a probability shows as a percentage."""
    score = row.score
    shown = "n/a" if score is None else f"{score:.0%}" if 0.0 <= score <= 1.0 else f"{score:g}"
    return {
        "account": account,
        "score": shown,
        "label": row.label or "no label",
        "model_version": row.model_version,
        "scored_on": f"{row.scored_at:%d %b %Y}",
    }


def utter_reasons(dispatcher: CollectingDispatcher, row: PredictionScore) -> None:
    """The stored reasons, largest contribution first (at most three)."""
    names = [str(r.get("feature")) for r in (row.reasons or [])[:3] if isinstance(r, dict)]
    if names:
        dispatcher.utter_message(response="utter_churn_reasons", reasons=", ".join(names))


class ActionChurnRisk(AccountRequest):
    """Reports a stored churn score, or that predictions are not available yet."""

    intent = "churn_risk"

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_churn_risk"

    def act(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        scope: Scope,
        account: ChosenAccount | None,
        text: str,
    ) -> Events:
        """Reply with the latest stored score and its reasons, or say there is none."""
        assert account is not None
        row = latest_churn(session, scope, account.account_id)
        if row is None:
            dispatcher.utter_message(response="utter_churn_unavailable", account=account.name)
            return []
        dispatcher.utter_message(response="utter_churn_score", **score_values(account.name, row))
        utter_reasons(dispatcher, row)
        return []


class ActionNextBestAction(AccountRequest):
    """Says recommendations are not available yet, plus any stored churn score."""

    intent = "next_best_action"

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_next_best_action"

    def act(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        scope: Scope,
        account: ChosenAccount | None,
        text: str,
    ) -> Events:
        """No recommender yet: be plain about it and share what is known."""
        assert account is not None
        dispatcher.utter_message(response="utter_nba_unavailable", account=account.name)
        row = latest_churn(session, scope, account.account_id)
        if row is not None:
            dispatcher.utter_message(
                response="utter_churn_score", **score_values(account.name, row)
            )
        return []


class ActionAtRiskAccounts(CrmAction):
    """Ranks the scope's accounts by their stored churn scores, highest first."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_at_risk_accounts"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """List up to five scored accounts, or say that no scores exist yet."""
        scope = scope_from_tracker(tracker)
        if not scope.is_staff:
            dispatcher.utter_message(response="utter_rep_only")
            return []
        with session_scope() as session:
            accounts = search_accounts(session=session, scope=scope, limit=AT_RISK_SCANNED)
            scored = [(a.name, _latest_churn(session, a.id)) for a in accounts]
            ranked = sorted(
                ((name, row) for name, row in scored if row is not None and row.score is not None),
                key=lambda item: -(item[1].score or 0.0),
            )
            if not ranked:
                dispatcher.utter_message(response="utter_at_risk_unavailable")
                return []
            dispatcher.utter_message(response="utter_at_risk_header")
            for name, row in ranked[:AT_RISK_SHOWN]:
                dispatcher.utter_message(response="utter_at_risk_line", **score_values(name, row))
        return []
