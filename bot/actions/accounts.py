"""Rep requests about one account: resolve the spoken name, ask when unsure, then act.

`AccountRequest` is the shared flow; each rep action supplies `act`. Resolution follows the
CRM's scoped fuzzy match: a unique exact name or a clear best match is used, several close
ones become "Which one did you mean?" buttons, and none means "not among yours" (an account
of another rep is indistinguishable from a missing one).
"""

from __future__ import annotations

import json
import re
from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from bot.actions.base import CrmAction, Events
from bot.actions.identity import scope_from_tracker
from crm_store.db import session_scope
from crm_store.queries.accounts import (
    AccountMatch,
    account_summary,
    clear_winner,
    get_account,
    resolve_account,
)
from crm_store.scope import Scope

_ID_REF = re.compile(r"^#(\d{1,12})$")
MONEY_FORMAT = "{:,.0f}"


@dataclass(frozen=True, slots=True)
class ChosenAccount:
    """The account a request is about, as the scope sees it."""

    account_id: int
    name: str


def latest_entity_text(tracker: Tracker, entity: str) -> str | None:
    """What the person literally typed for `entity` in the latest message (before synonyms)."""
    text = tracker.latest_message.get("text") or ""
    for found in tracker.latest_message.get("entities") or []:
        if found.get("entity") == entity and "start" in found and "end" in found:
            return text[found["start"] : found["end"]]
    return None


def money(amount: object) -> str:
    """ "$12,500" for reply texts."""
    return "$" + MONEY_FORMAT.format(amount)


def pick(matches: list[AccountMatch]) -> AccountMatch | None:
    """A unique exact name wins outright; otherwise the store's clear-winner rule decides."""
    exact = [m for m in matches if m.score >= 100.0]
    if len(exact) == 1:
        return exact[0]
    return clear_winner(matches)


def choice_buttons(matches: list[AccountMatch]) -> list[dict[str, str]]:
    """One button per candidate; the payload names the account by id so it cannot be
    ambiguous again, even when two accounts share a name. The intent is `inform`, as for a
    typed answer: the rule for `inform` resumes the waiting request."""
    duplicates = {m.name for m in matches if [n.name for n in matches].count(m.name) > 1}
    return [
        {
            "title": f"{m.name} (#{m.account_id})" if m.name in duplicates else m.name,
            "payload": "/inform" + json.dumps({"account": f"#{m.account_id}"}),
        }
        for m in matches
    ]


def clear_pending() -> Events:
    """Events that forget a request that was waiting for an account."""
    return [SlotSet("pending_intent", None), SlotSet("pending_text", None)]


@dataclass(frozen=True)
class AccountTurn:
    """What an account request acts on: who asks, about which account, in which words.

    `account` is None only for requests with `account_optional` (e.g. all open deals).
    """

    dispatcher: CollectingDispatcher
    tracker: Tracker
    session: Session
    scope: Scope
    account: ChosenAccount | None
    text: str


class AccountRequest(CrmAction):
    """A staff request about one account (or, when `account_optional`, about all of them)."""

    intent: ClassVar[str]
    account_optional: ClassVar[bool] = False
    registry: ClassVar[dict[str, type[AccountRequest]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "intent" in cls.__dict__:
            AccountRequest.registry[cls.intent] = cls

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Refuse customers, then resolve the account named in this message (or earlier)."""
        scope = scope_from_tracker(tracker)
        if not scope.is_staff:
            dispatcher.utter_message(response="utter_rep_only")
            return clear_pending()
        named = next(tracker.get_latest_entity_values("account"), None)
        query = named if named or self.account_optional else tracker.get_slot("account")
        text = tracker.latest_message.get("text") or ""
        return self.resolve_and_act(dispatcher, tracker, scope, query, text)

    def resolve_and_act(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        scope: Scope,
        query: str | None,
        text: str,
    ) -> Events:
        """Act on the account `query` names, or ask which one, or say it was not found."""
        waiting = [SlotSet("pending_intent", self.intent), SlotSet("pending_text", text)]
        with session_scope() as session:
            if not query:
                if self.account_optional:
                    return clear_pending() + self.act(
                        AccountTurn(dispatcher, tracker, session, scope, None, text)
                    )
                dispatcher.utter_message(response="utter_ask_account")
                return waiting
            chosen, matches = self._resolve(session, scope, query)
            if chosen is not None:
                events = self.act(AccountTurn(dispatcher, tracker, session, scope, chosen, text))
                return [SlotSet("account", chosen.name), *clear_pending(), *events]
            if not matches:
                dispatcher.utter_message(response="utter_account_not_found", query=query)
                return [SlotSet("account", None), *clear_pending()]
            dispatcher.utter_message(
                response="utter_which_account", query=query, buttons=choice_buttons(matches)
            )
            return [SlotSet("account", None), *waiting]

    @staticmethod
    def _resolve(
        session: Session, scope: Scope, query: str
    ) -> tuple[ChosenAccount | None, list[AccountMatch]]:
        by_id = _ID_REF.match(query.strip())
        if by_id:
            account = get_account(session=session, scope=scope, account_id=int(by_id.group(1)))
            chosen = ChosenAccount(account.id, account.name) if account else None
            return chosen, []
        matches = resolve_account(session=session, scope=scope, name=query)
        best = pick(matches)
        return (ChosenAccount(best.account_id, best.name) if best else None), matches

    @abstractmethod
    def act(self, turn: AccountTurn) -> Events:
        """Do the request for `account` (None only when `account_optional`)."""


class ActionAccountSummary(AccountRequest):
    """Owner, open deals, open tickets and last activity, straight from the CRM."""

    intent = "account_summary"

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_account_summary"

    def act(self, turn: AccountTurn) -> Events:
        """Reply with the account's summary as the scope sees it."""
        assert turn.account is not None
        summary = account_summary(
            session=turn.session, scope=turn.scope, account_id=turn.account.account_id
        )
        if summary is None:
            turn.dispatcher.utter_message(
                response="utter_account_not_found", query=turn.account.name
            )
            return []
        owner = summary.owner_name or "nobody"
        if summary.owner_name and summary.owner_email:
            owner = f"{summary.owner_name} ({summary.owner_email})"
        last = "none recorded"
        if summary.last_activity_at is not None:
            last = f"{summary.last_activity_subject} on {summary.last_activity_at:%d %b %Y}"
        turn.dispatcher.utter_message(
            response="utter_account_summary",
            name=summary.name,
            status=summary.status,
            owner=owner,
            open_deal_count=summary.open_deal_count,
            open_deal_amount=money(summary.open_deal_amount),
            open_ticket_count=summary.open_ticket_count,
            last_activity=last,
        )
        return []
