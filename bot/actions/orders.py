"""Order status: the form that collects the order number (and email), and the answer."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import CrmAction, Events
from bot.actions.forms import CrmFormValidation
from bot.actions.identity import scope_from_tracker
from bot.actions.parsing import parse_order_id
from crm_store.db import session_scope
from crm_store.models import Order
from crm_store.queries.orders import get_order, lookup_order
from crm_store.scope import Scope

logger = logging.getLogger(__name__)


def fmt_date(value: Any) -> str:
    """ "12 Nov 2026": unambiguous for every locale."""
    return value.strftime("%d %b %Y")


def _visible_order(scope: Scope, number: str) -> Order | None:
    """The order if the signed-in person may see it; anonymous visitors see none."""
    if scope.is_anonymous:
        return None
    with session_scope() as session:
        return get_order(session=session, scope=scope, number=number)


class ValidateOrderStatusForm(CrmFormValidation):
    """Collects `order_id`, and `email` unless the signed-in person can already see it."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "validate_order_status_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Skip the email when the signed-in customer (or staff) may see the order."""
        number = parse_order_id(tracker.get_slot("order_id"))
        if number is None:
            return domain_slots
        try:
            visible = _visible_order(scope_from_tracker(tracker), number) is not None
        except Exception:
            logger.exception("order visibility check failed; asking for the email")
            return domain_slots
        return [slot for slot in domain_slots if slot != "email"] if visible else domain_slots

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept "ORD-10045", "ord 10045" or "10045"; re-ask otherwise."""
        number = parse_order_id(value)
        if number is None:
            dispatcher.utter_message(response="utter_invalid_order_id")
        return {"order_id": number}


def utter_order(dispatcher: CollectingDispatcher, order: Order) -> None:
    """Status first, then whichever of shipping date, tracking and delivery date exist."""
    dispatcher.utter_message(
        response="utter_order_status",
        order_id=order.number,
        status=str(order.status.value),
        placed_on=fmt_date(order.placed_at),
    )
    if order.shipped_at is not None:
        dispatcher.utter_message(
            response="utter_order_shipped", shipped_on=fmt_date(order.shipped_at)
        )
    if order.tracking_number:
        dispatcher.utter_message(
            response="utter_order_tracking", tracking_number=order.tracking_number
        )
    if order.delivered_at is not None:
        dispatcher.utter_message(
            response="utter_order_delivered", delivered_on=fmt_date(order.delivered_at)
        )


class ActionOrderStatus(CrmAction):
    """Answers with the real status from the CRM, never revealing someone else's order."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_order_status"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Look the order up by scope, else by number + email; reset the form's slots."""
        number = parse_order_id(tracker.get_slot("order_id"))
        email = tracker.get_slot("email")
        scope = scope_from_tracker(tracker)
        if number is None:
            dispatcher.utter_message(response="utter_invalid_order_id")
            return [SlotSet("order_id", None)]
        with session_scope() as session:
            order = lookup_order(session=session, scope=scope, number=number, email=email)
            if order is None:
                dispatcher.utter_message(response="utter_order_not_found", order_id=number)
                return [SlotSet("order_id", None), SlotSet("email", None)]
            utter_order(dispatcher, order)
        return [SlotSet("order_id", None)]
