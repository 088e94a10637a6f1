"""Handoff in the API: routing during a handoff, pushes to live sockets, the offline queue.

Rasa is a real loopback HTTP server standing in for the webhook (`stand_in_rasa`), so the
tests see exactly which messages the bot was asked about.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from channels.app import create_app
from channels.config import Settings
from channels.handoff.relay import relay_agent_reply, relay_claim, relay_resolve
from channels.handoff.routing import parse_rating
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS as DEMO
from crm_store.errors import ConflictError
from crm_store.models import Conversation, ConversationStatus, CrmEvent, Handoff, Notification
from crm_store.queries.handoffs import open_handoff
from crm_store.queries.users import get_user_by_email
from tests.channels.stand_in_rasa import HANDOFF_LINE, stand_in_rasa


@pytest.fixture
def rasa_turns() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with stand_in_rasa() as server:
        yield server


@pytest.fixture
def app_settings(settings: Settings, rasa_turns: tuple[str, list]) -> Settings:
    return settings.model_copy(update={"rasa_url": rasa_turns[0]})


@pytest.fixture
def app_client(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings)) as client:
        yield client


def _sid() -> str:
    return secrets.token_hex(8)


def _agent_id(settings: Settings, email: str = DEMO.agent_email) -> int:
    with session_scope(settings.database_url) as session:
        user = get_user_by_email(session=session, email=email)
        assert user is not None
        return user.id


def _conversation(settings: Settings, sid: str) -> Conversation:
    with session_scope(settings.database_url) as session:
        conv = session.scalars(select(Conversation).where(Conversation.external_id == sid)).one()
        session.expunge(conv)
        return conv


def _open(settings: Settings, sid: str) -> int:
    """Open a handoff for the web session, as the bot's action would."""
    conv = _conversation(settings, sid)
    with session_scope(settings.database_url) as session:
        return open_handoff(session=session, conversation_id=conv.id, reason="customer_request").id


def _run(client: TestClient, func: Any, **kwargs: Any) -> None:
    """Call a relay function in the app's own event loop, as the Slack adapter would."""
    client.portal.call(partial(func, app=client.app, **kwargs))


def _say(client: TestClient, sid: str, text: str) -> dict[str, Any]:
    response = client.post("/v1/chat/web", json={"session_id": sid, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def test_messages_during_a_handoff_go_to_the_agent_not_the_bot(
    app_client: TestClient, app_settings: Settings, rasa_turns: tuple[str, list]
) -> None:
    sid = _sid()
    assert _say(app_client, sid, "hello")["messages"][0]["text"] == "echo: hello"
    handoff_id = _open(app_settings, sid)
    body = _say(app_client, sid, "is anyone there?")
    assert body["messages"] == [] and body["handoff"] == "pending"
    assert [t["message"] for t in rasa_turns[1]] == ["hello"]  # the bot never heard it
    with session_scope(app_settings.database_url) as session:
        notes = session.scalars(
            select(Notification).where(Notification.kind == "handoff_customer_message")
        ).all()
        assert [n.payload["handoff_id"] for n in notes] == [handoff_id]


def test_agent_reply_is_pushed_to_the_open_socket(
    app_client: TestClient, app_settings: Settings
) -> None:
    sid = _sid()
    _say(app_client, sid, "hello")
    handoff_id = _open(app_settings, sid)
    agent = _agent_id(app_settings)
    with app_client.websocket_connect(f"/v1/chat/web/ws?session_id={sid}") as ws:
        _run(app_client, relay_claim, handoff_id=handoff_id, agent_user_id=agent)
        joined = ws.receive_json()
        assert joined["type"] == "push"
        assert (
            joined["messages"][0]["text"] == "Ines Costa from the support team has joined the chat."
        )
        _run(app_client, relay_agent_reply, handoff_id=handoff_id, agent_user_id=agent,
             text="<b>Hi</b>, I'm Ines.")  # fmt: skip
        [line] = ws.receive_json()["messages"]
        assert line["text"] == "<b>Hi</b>, I'm Ines." and line["sender"] == "agent"
        assert line["agent_name"] == "Ines Costa" and isinstance(line["id"], int)
        # The customer answers over the socket: it goes to the agent, acknowledged.
        ws.send_json({"session_id": sid, "text": "thanks"})
        ack = ws.receive_json()
        assert ack["messages"] == [] and ack["handoff"] == "claimed"
    assert _conversation(app_settings, sid).status is ConversationStatus.human
    # Delivered lines are not shown again.
    assert app_client.get(f"/v1/chat/web/pending?session_id={sid}").json()["messages"] == []


def test_offline_customer_sees_queued_replies_on_reconnect(
    app_client: TestClient, app_settings: Settings
) -> None:
    sid = _sid()
    _say(app_client, sid, "hello")
    handoff_id = _open(app_settings, sid)
    agent = _agent_id(app_settings)
    _run(app_client, relay_agent_reply, handoff_id=handoff_id, agent_user_id=agent,
         text="Sorry for the wait.")  # fmt: skip
    with app_client.websocket_connect(f"/v1/chat/web/ws?session_id={sid}") as ws:
        texts = [m["text"] for m in ws.receive_json()["messages"]]
    assert texts == ["Ines Costa from the support team has joined the chat.", "Sorry for the wait."]
    # Shown once: a second reconnect gets nothing, and neither does the POST resume.
    assert app_client.get(f"/v1/chat/web/pending?session_id={sid}").json()["messages"] == []


def test_post_clients_resume_with_the_pending_endpoint(
    app_client: TestClient, app_settings: Settings
) -> None:
    sid = _sid()
    _say(app_client, sid, "hello")
    handoff_id = _open(app_settings, sid)
    _run(app_client, relay_agent_reply, handoff_id=handoff_id,
         agent_user_id=_agent_id(app_settings), text="Hello from Ines")  # fmt: skip
    body = app_client.get(f"/v1/chat/web/pending?session_id={sid}").json()
    assert [m["text"] for m in body["messages"]][-1] == "Hello from Ines"
    assert app_client.get(f"/v1/chat/web/pending?session_id={_sid()}").json()["messages"] == []
    assert app_client.get("/v1/chat/web/pending?session_id=bad").status_code == 422


def test_resolve_hands_back_and_a_rating_is_stored(
    app_client: TestClient, app_settings: Settings, rasa_turns: tuple[str, list]
) -> None:
    sid = _sid()
    _say(app_client, sid, "hello")
    handoff_id = _open(app_settings, sid)
    agent = _agent_id(app_settings)
    with app_client.websocket_connect(f"/v1/chat/web/ws?session_id={sid}") as ws:
        _run(app_client, relay_claim, handoff_id=handoff_id, agent_user_id=agent)
        ws.receive_json()
        _run(app_client, relay_resolve, handoff_id=handoff_id, agent_user_id=agent)
        handback, csat = ws.receive_json()["messages"]
        assert "back with the assistant" in handback["text"]
        assert [b["payload"] for b in csat["buttons"]] == ["1", "2", "3", "4", "5"]
        ws.send_json({"session_id": sid, "text": "4"})
        assert ws.receive_json()["messages"] == [{"text": "Thank you for your rating!"}]
    conv = _conversation(app_settings, sid)
    assert conv.csat == 4 and conv.status is ConversationStatus.bot
    # The bot has the conversation again; "4" is an ordinary message now.
    assert _say(app_client, sid, "4")["messages"][0]["text"] == "echo: 4"
    assert [t["message"] for t in rasa_turns[1]] == ["hello", "4"]


def test_anything_but_a_rating_after_resolve_goes_to_the_bot(
    app_client: TestClient, app_settings: Settings
) -> None:
    sid = _sid()
    _say(app_client, sid, "hello")
    handoff_id = _open(app_settings, sid)
    _run(app_client, relay_resolve, handoff_id=handoff_id, agent_user_id=_agent_id(app_settings))
    body = _say(app_client, sid, "where is my order?")
    assert body["messages"][-1]["text"] == "echo: where is my order?"
    # The waiting hand-back lines come first, then the bot's answer.
    assert "back with the assistant" in body["messages"][0]["text"]
    conv = _conversation(app_settings, sid)
    assert conv.csat is None and conv.csat_requested_at is None


def test_clearly_upset_customer_is_handed_over(
    app_client: TestClient, app_settings: Settings, rasa_turns: tuple[str, list]
) -> None:
    sid = _sid()
    body = _say(app_client, sid, "I am so angry and frustrated with this useless bot")
    assert body["messages"][-1]["text"] == HANDOFF_LINE
    assert rasa_turns[1][-1]["message"] == "/human_handoff"
    conversation_id = _conversation(app_settings, sid).id
    with session_scope(app_settings.database_url) as session:
        # This conversation's handoff (the demo company has handoffs of its own).
        [handoff] = session.scalars(
            select(Handoff).where(Handoff.conversation_id == conversation_id)
        ).all()
        assert handoff.reason.value == "negative_sentiment"
        [event] = session.scalars(
            select(CrmEvent).where(CrmEvent.type == "negative_sentiment")
        ).all()
        assert event.payload["score"] <= -0.6
    # Mildly negative requests about a bad event still go to the bot.
    sid2 = _sid()
    assert _say(app_client, sid2, "my card payment failed")["messages"][0]["text"].startswith(
        "echo"
    )


def test_double_claim_over_the_relay_is_a_conflict(
    app_client: TestClient, app_settings: Settings
) -> None:
    sid = _sid()
    _say(app_client, sid, "hello")
    handoff_id = _open(app_settings, sid)
    _run(app_client, relay_claim, handoff_id=handoff_id, agent_user_id=_agent_id(app_settings))
    other = _agent_id(app_settings, "jonas.weber@crm-demo.example")
    with pytest.raises(ConflictError, match="already claimed"):
        _run(app_client, relay_claim, handoff_id=handoff_id, agent_user_id=other)


@pytest.mark.parametrize(
    ("text", "rating"),
    [("4", 4), (" 5 ", 5), ("3/5", 3), ("1 star", 1), ("5 stars!", 5), ("0", None),
     ("6", None), ("45", None), ("4 please", None), ("four", None)],
)  # fmt: skip
def test_parse_rating(text: str, rating: int | None) -> None:
    assert parse_rating(text) == rating


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_agents_work_a_handoff_over_rest(app_client: TestClient, app_settings: Settings) -> None:
    sid = _sid()
    _say(app_client, sid, "hello")
    handoff_id = _open(app_settings, sid)
    agent, other = _auth(DEMO.agent_token), _auth(DEMO.tokens["agent2"])
    listed = app_client.get("/v1/handoffs", headers=agent).json()
    assert [h["id"] for h in listed] == [handoff_id] and listed[0]["status"] == "pending"
    context = app_client.get(f"/v1/handoffs/{handoff_id}", headers=agent).json()
    assert [line["text"] for line in context["transcript"]][:2] == ["hello", "echo: hello"]
    with app_client.websocket_connect(f"/v1/chat/web/ws?session_id={sid}") as ws:
        claimed = app_client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent)
        assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
        assert "joined the chat" in ws.receive_json()["messages"][0]["text"]
        conflict = app_client.post(f"/v1/handoffs/{handoff_id}/claim", headers=other)
        assert conflict.status_code == 409
        assert conflict.json()["detail"] == f"handoff {handoff_id} is already claimed by Ines Costa"
        sent = app_client.post(
            f"/v1/handoffs/{handoff_id}/reply", headers=agent, json={"text": "On it."}
        )
        assert sent.json()["first_agent_reply_at"] is not None
        assert ws.receive_json()["messages"][0]["text"] == "On it."
        done = app_client.post(f"/v1/handoffs/{handoff_id}/resolve", headers=agent)
        assert done.json()["status"] == "resolved"
        assert len(ws.receive_json()["messages"]) == 2  # hand-back and the CSAT question
    assert app_client.get("/v1/handoffs", headers=agent).json() == []


def test_handoff_routes_refuse_reps_and_bad_input(
    app_client: TestClient, app_settings: Settings
) -> None:
    sid = _sid()
    _say(app_client, sid, "hello")
    handoff_id = _open(app_settings, sid)
    agent = _auth(DEMO.agent_token)
    assert app_client.get("/v1/handoffs").status_code == 401
    assert app_client.get("/v1/handoffs", headers=_auth(DEMO.rep_token)).status_code == 403
    assert app_client.post("/v1/handoffs/999999/claim", headers=agent).status_code == 404
    assert app_client.get("/v1/handoffs/999999", headers=agent).status_code == 404
    assert app_client.post(f"/v1/handoffs/{2**40}/claim", headers=agent).status_code == 422
    blank = app_client.post(f"/v1/handoffs/{handoff_id}/reply", headers=agent, json={"text": " "})
    assert blank.status_code == 422 and "reply must not be empty" in blank.json()["detail"]
    assert app_client.get("/v1/handoffs?state=lost", headers=agent).status_code == 422


def test_a_reply_relayed_by_another_api_process_reaches_the_socket(
    app_settings: Settings,
) -> None:
    """Two apps on one database stand for two API workers: the sweep carries the reply over."""
    fast = app_settings.model_copy(update={"push_sweep_s": 0.2})
    with TestClient(create_app(fast)) as worker_a, TestClient(create_app(fast)) as worker_b:
        sid = _sid()
        _say(worker_b, sid, "hello")
        handoff_id = _open(app_settings, sid)
        with worker_b.websocket_connect(f"/v1/chat/web/ws?session_id={sid}") as ws:
            _run(worker_a, relay_agent_reply, handoff_id=handoff_id,
                 agent_user_id=_agent_id(app_settings), text="From the other worker")  # fmt: skip
            texts = [m["text"] for m in ws.receive_json()["messages"]]
        assert texts[-1] == "From the other worker"
        assert not worker_a.app.state.chat_hub.online_conversations()


def test_a_malformed_session_id_on_connect_is_refused(app_client: TestClient) -> None:
    bad = "/v1/chat/web/ws?session_id=../../x"
    with pytest.raises(WebSocketDisconnect) as closed, app_client.websocket_connect(bad) as ws:
        ws.receive_json()
    assert closed.value.code == 1008  # policy violation: nothing was attached or sent


def test_while_the_team_is_away_the_bot_keeps_talking(
    app_client: TestClient,
    app_settings: Settings,
    rasa_turns: tuple[str, list],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_BUSINESS_HOURS", "sat 00:00-00:01 UTC")
    sid = _sid()
    _say(app_client, sid, "hello")
    conv = _conversation(app_settings, sid)
    with session_scope(app_settings.database_url) as session:
        handoff = open_handoff(session=session, conversation_id=conv.id, reason="customer_request")
        assert handoff.status.value == "away"
    body = _say(app_client, sid, "ok, where is my order?")
    assert body["messages"][0]["text"] == "echo: ok, where is my order?"
    assert body["handoff"] is None
