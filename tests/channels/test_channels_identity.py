"""The identity the API puts into Rasa's metadata (docs/spine.md, Identity)."""

from __future__ import annotations

from channels.turns import Speaker
from crm_store import Role, Scope
from crm_store.log_context import REQUEST_ID
from crm_store.models import Channel


def test_anonymous_web_visitor_is_a_customer_without_user() -> None:
    speaker = Speaker(channel=Channel.web, scope=Scope.anonymous())
    assert speaker.identity(981) == {
        "role": "customer",
        "user_id": None,
        "team_id": None,
        "contact_id": None,
        "email": None,
        "channel": "web",
        "conversation_id": 981,
        "request_id": None,  # outside a request; the middleware sets one per request
    }


def test_the_request_id_travels_with_the_identity() -> None:
    token = REQUEST_ID.set("req-0123456789")
    try:
        identity = Speaker(channel=Channel.web, scope=Scope.anonymous()).identity(1)
    finally:
        REQUEST_ID.reset(token)
    assert identity["request_id"] == "req-0123456789"


def test_rep_identity_comes_from_the_verified_scope() -> None:
    scope = Scope(role=Role.manager, user_id=12, team_id=3, email="mia@example.test")
    identity = Speaker(channel=Channel.rep, scope=scope).identity(7)
    assert identity["role"] == "manager"
    assert (identity["user_id"], identity["team_id"]) == (12, 3)
    assert identity["email"] == "mia@example.test"
    assert (identity["channel"], identity["conversation_id"]) == ("rep", 7)


def test_signed_in_sessions_are_namespaced_by_user() -> None:
    rep_a = Speaker(channel=Channel.rep, scope=Scope(role=Role.rep, user_id=1))
    rep_b = Speaker(channel=Channel.rep, scope=Scope(role=Role.rep, user_id=2))
    visitor = Speaker(channel=Channel.web, scope=Scope.anonymous())
    keys = {s.conversation_key("same-session") for s in (rep_a, rep_b, visitor)}
    assert len(keys) == 3
    assert visitor.conversation_key("same-session") == "same-session"
