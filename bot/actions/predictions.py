"""Churn risk, at-risk accounts, next best action and what to offer, from `predict.service`.

Scores are computed on demand by the registered model, so each reply names the model
version and the time it was scored. Without a trained model an action falls back to the
newest stored score (a batch run or an import), and with neither it says so plainly; it
never invents a figure.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from bot.actions.accounts import AccountRequest, AccountTurn, ChosenAccount
from bot.actions.base import CrmAction, Events
from bot.actions.identity import scope_from_tracker
from bot.actions.prediction_views import (
    churn_reason_values,
    churn_values,
    open_tasks_text,
    percent,
    products_text,
    segment_values,
    when,
)
from crm_store.db import session_scope
from crm_store.models import PredictionScore
from crm_store.queries.accounts import _latest_churn, get_account, search_accounts
from crm_store.scope import Scope
from predict import service
from predict.errors import ModelNotFoundError, NotScorableError, PredictError
from predict.service import ChurnResult

logger = logging.getLogger(__name__)
AT_RISK_SHOWN = 5
AT_RISK_SCANNED = 500
OFFERED_PRODUCTS = 3


def latest_churn(session: Session, scope: Scope, account_id: int) -> PredictionScore | None:
    """The newest stored churn score of an account the scope may see, or None.

    Uses the store's own "latest churn row" helper (it also feeds `account_summary`) after a
    scoped visibility check; crm_store has no public score query yet.
    """
    if get_account(session=session, scope=scope, account_id=account_id) is None:
        return None
    return _latest_churn(session, account_id)


def score_values(account: str, row: PredictionScore) -> dict[str, str]:
    """Reply values for one stored score: a probability shows as a percentage."""
    score = row.score
    shown = "n/a" if score is None else percent(score) if 0.0 <= score <= 1.0 else f"{score:g}"
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


def refuse(dispatcher: CollectingDispatcher, account: ChosenAccount, error: PredictError) -> None:
    """Say that the model refused (schema mismatch, untrusted file); the details go to the log,
    since they name columns and files that mean nothing to a rep."""
    logger.warning("prediction refused for account %s: %s", account.account_id, error)
    dispatcher.utter_message(response="utter_prediction_refused", account=account.name)


def live_churn(
    dispatcher: CollectingDispatcher, session: Session, scope: Scope, account: ChosenAccount
) -> tuple[ChurnResult | None, bool]:
    """Score the account now; on a refusal (schema, untrusted file) say why.

    Returns:
        The result (None when the model or the account's inputs are missing) and whether
        the action may go on (False after a refusal was said).
    """
    try:
        return service.score_account_churn(session, account.account_id, scope=scope), True
    except (ModelNotFoundError, NotScorableError):
        return None, True
    except PredictError as error:
        refuse(dispatcher, account, error)
        return None, False


def utter_live_churn(
    dispatcher: CollectingDispatcher, account: ChosenAccount, result: ChurnResult
) -> None:
    """The probability with model version and time, then what raises and lowers it."""
    dispatcher.utter_message(response="utter_churn_score", **churn_values(account.name, result))
    dispatcher.utter_message(response="utter_churn_explained", **churn_reason_values(result))


class ActionChurnRisk(AccountRequest):
    """Churn probability of one account with the reasons raising and lowering it."""

    intent = "churn_risk"

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_churn_risk"

    def act(self, turn: AccountTurn) -> Events:
        """Score now; else report the newest stored score; else say why there is none."""
        assert turn.account is not None
        result, go_on = live_churn(turn.dispatcher, turn.session, turn.scope, turn.account)
        if result is not None:
            utter_live_churn(turn.dispatcher, turn.account, result)
            return []
        if not go_on:
            return []
        row = latest_churn(turn.session, turn.scope, turn.account.account_id)
        if row is not None:
            values = score_values(turn.account.name, row)
            turn.dispatcher.utter_message(response="utter_churn_score", **values)
            utter_reasons(turn.dispatcher, row)
            return []
        response = "utter_churn_unavailable" if _no_churn_model() else "utter_churn_not_scorable"
        turn.dispatcher.utter_message(response=response, account=turn.account.name)
        return []


def _no_churn_model() -> bool:
    try:
        service.load_churn()
    except ModelNotFoundError:
        return True
    return False


def utter_segment_and_tasks(
    dispatcher: CollectingDispatcher, session: Session, account: ChosenAccount
) -> None:
    """The segment's playbook (when segmented) and the account's open tasks."""
    segment = segment_values(session, account.name, account.account_id)
    if segment is not None:
        dispatcher.utter_message(response="utter_segment_playbook", **segment)
    tasks = open_tasks_text(session, account.account_id)
    if tasks is None:
        dispatcher.utter_message(response="utter_no_open_tasks", account=account.name)
    else:
        dispatcher.utter_message(response="utter_open_tasks", account=account.name, tasks=tasks)


class ActionNextBestAction(AccountRequest):
    """One next step from the churn drivers and bought-together products, with context."""

    intent = "next_best_action"

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_next_best_action"

    def act(self, turn: AccountTurn) -> Events:
        """The action and why, the churn figure it rests on, products, segment and tasks."""
        assert turn.account is not None
        try:
            advice = service.next_best_action(
                turn.session, turn.account.account_id, scope=turn.scope
            )
        except PredictError as error:
            refuse(turn.dispatcher, turn.account, error)
            return []
        if advice is None:
            turn.dispatcher.utter_message(
                response="utter_account_not_found", query=turn.account.name
            )
            return []
        if advice.churn is None and not advice.recommendations:
            # Nothing model-based to stand on: say so, and share any stored score.
            turn.dispatcher.utter_message(
                response="utter_nba_unavailable", account=turn.account.name
            )
            row = latest_churn(turn.session, turn.scope, turn.account.account_id)
            if row is not None:
                values = score_values(turn.account.name, row)
                turn.dispatcher.utter_message(response="utter_churn_score", **values)
            return []
        turn.dispatcher.utter_message(
            response="utter_nba", account=turn.account.name, action=advice.action, why=advice.why
        )
        if advice.churn is not None:
            utter_live_churn(turn.dispatcher, turn.account, advice.churn)
        if advice.recommendations:
            products = products_text(advice.recommendations)
            turn.dispatcher.utter_message(response="utter_nba_products", products=products)
        utter_segment_and_tasks(turn.dispatcher, turn.session, turn.account)
        return []


class ActionWhatToOffer(AccountRequest):
    """A retention offer for the top churn driver and bought-together products."""

    intent = "what_to_offer"

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_what_to_offer"

    def act(self, turn: AccountTurn) -> Events:
        """Offer what keeps them (churn playbook) and what they are likely to buy (rules)."""
        assert turn.account is not None
        churn, go_on = live_churn(turn.dispatcher, turn.session, turn.scope, turn.account)
        if not go_on:
            return []
        offered = self._retention(turn.dispatcher, turn.account, churn)
        offered |= self._products(turn.dispatcher, turn.session, turn.scope, turn.account)
        segment = segment_values(turn.session, turn.account.name, turn.account.account_id)
        if segment is not None:
            turn.dispatcher.utter_message(response="utter_segment_playbook", **segment)
        elif not offered:
            turn.dispatcher.utter_message(response="utter_offer_nothing", account=turn.account.name)
        return []

    @staticmethod
    def _retention(
        dispatcher: CollectingDispatcher, account: ChosenAccount, churn: ChurnResult | None
    ) -> bool:
        retention = service.retention_action(churn) if churn is not None else None
        if churn is None or retention is None:
            return False
        action, reason = retention
        dispatcher.utter_message(
            response="utter_offer_retention", action=action, driver=reason.text,
            **churn_values(account.name, churn),
        )  # fmt: skip
        return True

    @staticmethod
    def _products(
        dispatcher: CollectingDispatcher, session: Session, scope: Scope, account: ChosenAccount
    ) -> bool:
        try:
            found = service.recommend_products(
                session, account.account_id, scope=scope, k=OFFERED_PRODUCTS
            )
        except ModelNotFoundError:
            dispatcher.utter_message(response="utter_offer_no_rules")
            return False
        if not found:
            return False
        dispatcher.utter_message(
            response="utter_offer_products", account=account.name, products=products_text(found)
        )
        return True


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
                values = score_values(name, row)
                values["scored_on"] = when(row.scored_at)
                values["driver"] = top_driver(row)
                dispatcher.utter_message(response="utter_at_risk_line", **values)
        return []


def top_driver(row: PredictionScore) -> str:
    """The stored reason that raises the score most ("n/a" when none is stored)."""
    raising = [
        r for r in (row.reasons or []) if isinstance(r, dict) and float(r.get("effect", 0)) > 0
    ]
    if not raising:
        return "n/a"
    best = max(raising, key=lambda r: float(r["effect"]))
    return f"{best.get('feature')} ({float(best['effect']):+.2f})"
