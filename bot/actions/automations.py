"""Rep questions about the sales automations: what they did, and which deals are stalled.

Both answers come from the same sources the rules engine uses: the audit trail
(`rules.history`) and the stalled-deal rule's own threshold (`rules.stalled`), so the bot
never tells a rep something the automations would not do.
"""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from bot.actions.accounts import AccountRequest, AccountTurn, money
from bot.actions.base import Events
from bot.actions.windows import parse_lookback, span_days
from crm_store.models import utcnow
from crm_store.queries.deals import list_stalled_deals
from rules.history import AutomationEntry, automation_history
from rules.loader import load_rules
from rules.stalled import stalled_threshold

MAX_LINES = 8


def _forget_filters() -> Events:
    # The message may have filled `period`, `amount` or `due` ("this month", "today"); a later
    # open-deals question or task must not inherit them.
    return [SlotSet("period", None), SlotSet("amount", None), SlotSet("due", None)]


def _about(entry: AutomationEntry, one_account: bool) -> str:
    if one_account or entry.account is None or entry.about == entry.account:
        return entry.about
    return f"{entry.about} ({entry.account})"


class ActionAutomationActivity(AccountRequest):
    """What the automations did for one account (or all of the rep's) in a period."""

    intent = "automation_activity"
    account_optional = True

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_automation_activity"

    def act(self, turn: AccountTurn) -> Events:
        """Reply with the count, then the newest firings in words, newest first."""
        lookback = parse_lookback(turn.text, utcnow())
        history = automation_history(
            session=turn.session,
            scope=turn.scope,
            since=lookback.since,
            account_id=turn.account.account_id if turn.account else None,
            ruleset=load_rules(),
            limit=MAX_LINES,
        )
        where = f" for {turn.account.name}" if turn.account else " on your accounts"
        say = turn.dispatcher.utter_message
        if not history.entries:
            say(response="utter_no_automation_activity", where=where, period=lookback.label)
            return _forget_filters()
        say(
            response="utter_automation_activity",
            count=history.total,
            where=where,
            period=lookback.label,
        )
        for entry in history.entries:
            say(
                response="utter_automation_line",
                when=f"{entry.fired_at:%a %d %b %H:%M}",
                about=_about(entry, turn.account is not None),
                did=entry.did,
                rule=entry.rule,
                purpose=entry.purpose,
            )
        if history.total > len(history.entries):
            say(response="utter_automation_more", more=history.total - len(history.entries))
        if history.failed:
            say(response="utter_automation_failures", failed=history.failed)
        return _forget_filters()


class ActionStalledDeals(AccountRequest):
    """Open deals without activity for as long as the stalled-deal rule waits (or as asked)."""

    intent = "stalled_deals"
    account_optional = True

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_stalled_deals"

    def act(self, turn: AccountTurn) -> Events:
        """Say the threshold and where it comes from, then list the stalled deals."""
        threshold = stalled_threshold(load_rules())
        days = span_days(turn.text) or threshold.days
        now = utcnow()
        deals = list_stalled_deals(
            session=turn.session, scope=turn.scope, idle_days=days, now=now,
            account_id=turn.account.account_id if turn.account else None)  # fmt: skip
        scope_text = f" at {turn.account.name}" if turn.account else ""
        say = turn.dispatcher.utter_message
        if not deals:
            say(response="utter_no_stalled_deals", scope_text=scope_text, days=days)
        else:
            say(response="utter_stalled_deals", count=len(deals), scope_text=scope_text, days=days)
            for deal in deals[:MAX_LINES]:
                last = deal.last_activity_at or deal.created_at
                say(
                    response="utter_stalled_deal_line",
                    deal=deal.name,
                    account=deal.account.name,
                    owner=deal.owner.name if deal.owner else "no owner",
                    stage=deal.stage.value.replace("_", " "),
                    amount=money(deal.amount),
                    last_activity=f"{last:%d %b %Y}",
                    idle_days=(now - last).days,
                )
            if len(deals) > MAX_LINES:
                say(response="utter_stalled_deals_more", more=len(deals) - MAX_LINES)
        if threshold.rule is None:
            say(response="utter_stalled_threshold_default", days=threshold.days)
        elif days != threshold.days:
            say(
                response="utter_stalled_threshold_asked",
                days=days,
                rule=threshold.rule,
                rule_days=threshold.days,
            )
        else:
            say(response="utter_stalled_threshold_rule", days=days, rule=threshold.rule)
        return _forget_filters()
