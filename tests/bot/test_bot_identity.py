"""The verified identity in the metadata, and what happens when it is missing or forged."""

from __future__ import annotations

from typing import Any

import pytest
from bot_support import make_tracker

from bot.actions.identity import conversation_ref, scope_from_tracker
from crm_store.scope import Role, Scope

REP = {"role": "rep", "user_id": 3, "team_id": 1, "contact_id": None,
       "email": "Alice@crm-demo.example", "channel": "rep", "conversation_id": 981}  # fmt: skip


def test_rep_identity_becomes_a_rep_scope() -> None:
    scope = scope_from_tracker(make_tracker("hi", crm=REP))
    assert scope == Scope(role=Role.rep, user_id=3, team_id=1, email="alice@crm-demo.example")
    assert scope.is_staff


def test_signed_in_customer_keeps_contact_and_email() -> None:
    crm = {"role": "customer", "user_id": 20, "team_id": None, "contact_id": 40,
           "email": "nora.fields@northwind.example", "channel": "web"}  # fmt: skip
    scope = scope_from_tracker(make_tracker("hi", crm=crm))
    assert scope.role is Role.customer and scope.contact_id == 40 and not scope.is_staff


@pytest.mark.parametrize(
    "crm",
    [
        None,
        {},
        {"role": "superuser", "user_id": 3},
        {"role": "rep", "user_id": "3"},
        {"role": "rep", "user_id": True},
        {"role": "rep", "user_id": None},
        {"role": "rep", "user_id": 3, "team_id": [1]},
        {"role": "admin", "user_id": 1, "email": 12},
        "rep",
    ],
)
def test_missing_or_malformed_identity_is_anonymous(crm: Any) -> None:
    tracker = make_tracker("hi")
    tracker.latest_message["metadata"] = {"crm": crm} if crm is not None else {}
    assert scope_from_tracker(tracker) == Scope.anonymous()


def test_no_latest_message_is_anonymous() -> None:
    tracker = make_tracker("hi")
    tracker.latest_message = {}
    assert scope_from_tracker(tracker) == Scope.anonymous()


def test_conversation_ref_prefers_the_channel_id_and_falls_back_to_the_sender() -> None:
    assert conversation_ref(make_tracker("hi", crm=REP, sender_id="rep-981")) == (
        981,
        "rep",
        "rep-981",
    )
    assert conversation_ref(make_tracker("hi", sender_id="web-abc")) == (None, "web", "web-abc")
