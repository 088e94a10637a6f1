"""Open deals for a rep: optionally one account's, in a period, above an amount."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from bot.actions.accounts import AccountRequest, AccountTurn, ChosenAccount, money
from bot.actions.base import Events
from bot.actions.parsing import parse_amount, parse_period
from crm_store.queries.deals import list_open_deals

MAX_LINES = 10


def _scope_text(account: ChosenAccount | None, period: str | None, minimum: object) -> str:
    parts = []
    if account is not None:
        parts.append(f" for {account.name}")
    if period is not None:
        parts.append(f" closing {period.replace('_', ' ')}")
    if minimum is not None:
        parts.append(f" of at least {money(minimum)}")
    return "".join(parts)


class ActionOpenDeals(AccountRequest):
    """Lists open deals, soonest close first, with real amounts and stages."""

    intent = "open_deals"
    account_optional = True

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_open_deals"

    def act(self, turn: AccountTurn) -> Events:
        """Reply with a header and up to ten deal lines; forget the filters afterwards."""
        raw_period = turn.tracker.get_slot("period")
        period = parse_period(raw_period)
        if raw_period and period is None:
            turn.dispatcher.utter_message(response="utter_unknown_period")
        minimum = parse_amount(turn.tracker.get_slot("amount"))
        deals = list_open_deals(
            session=turn.session,
            scope=turn.scope,
            period=period,
            account_id=turn.account.account_id if turn.account else None,
        )
        if minimum is not None:
            deals = [deal for deal in deals if deal.amount >= minimum]
        scope_text = _scope_text(turn.account, period, minimum)
        reset = [SlotSet("period", None), SlotSet("amount", None)]
        if not deals:
            turn.dispatcher.utter_message(response="utter_no_open_deals", scope_text=scope_text)
            return reset
        turn.dispatcher.utter_message(
            response="utter_open_deals",
            count=len(deals),
            scope_text=scope_text,
            total=money(sum(deal.amount for deal in deals)),
        )
        for deal in deals[:MAX_LINES]:
            turn.dispatcher.utter_message(
                response="utter_open_deal_line",
                deal=deal.name,
                account=deal.account.name,
                stage=deal.stage.value.replace("_", " "),
                amount=money(deal.amount),
                close_on=f"{deal.close_date:%d %b %Y}" if deal.close_date else "(no date set)",
            )
        if len(deals) > MAX_LINES:
            turn.dispatcher.utter_message(
                response="utter_open_deals_more", more=len(deals) - MAX_LINES
            )
        return reset
