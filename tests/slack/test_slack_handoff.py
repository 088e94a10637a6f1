"""The handoff round trip through Slack, with a live WebSocket customer (no real Rasa).

The web chat's bot is a loopback stand-in (tests/channels/stand_in_rasa.py); the handoff is
opened in the store as the bot's action opens it. Everything else is real: the API with its
lifespan deliverer, the store (SQLite and PostgreSQL), signed Slack requests, a fake Slack
Web API. The full round trip with the real Rasa is tests/integration/test_slack_handoff.py.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import anyio
import pytest
from fake_slack import BOT_USER_ID, FakeSlack, command_body, event_body, interaction_body, sign
from fastapi.testclient import TestClient
from slack_support import AGENT, REP, SECRET, SUPPORT_CHANNEL, app_settings
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession

from channels.app import create_app
from channels.slack.handoff import HandoffOpenedNotice
from channels.slack.notices import UndeliverableError
from channels.slack.settings import SlackSettings
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS as DEMO
from crm_store.models import (
    Account,
    Conversation,
    Handoff,
    HandoffStatus,
    PredictionScore,
    utcnow,
)
from crm_store.queries.conversations import (
    append_message,
    get_or_create_conversation,
    list_messages,
)
from crm_store.queries.handoffs import open_handoff
from crm_store.queries.notifications import ClaimedNotification
from crm_store.queries.users import get_user_by_email, link_slack
from tests.channels.stand_in_rasa import stand_in_rasa

pytestmark = pytest.mark.usefixtures("linked")


@pytest.fixture
def api(seeded_db_url: str, slack_settings: SlackSettings) -> Iterator[TestClient]:
    """The API with Slack configured and the stand-in bot."""
    with stand_in_rasa() as (rasa_url, _turns):
        settings = app_settings(seeded_db_url, slack_settings, rasa_url=rasa_url)
        with TestClient(create_app(settings)) as client:
            yield client


def receive(ws: WebSocketTestSession, timeout: float = 10.0) -> dict[str, Any]:
    """The next frame, or a failure after `timeout` (never a hung test)."""

    async def next_message() -> dict[str, Any]:
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    message = ws.portal.call(next_message)
    assert message["type"] == "websocket.send", message
    return json.loads(message["text"])


def pushed_texts(ws: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    """The next `count` lines pushed to the customer (over one or more push frames)."""
    lines: list[dict[str, Any]] = []
    while len(lines) < count:
        frame = receive(ws)
        assert frame.get("type") == "push", frame
        lines.extend(frame["messages"])
    return lines


def signed(client: TestClient, path: str, body: bytes, form: bool = True) -> None:
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    response = client.post(path, content=body,
                           headers={"Content-Type": kind, **sign(SECRET, body)})  # fmt: skip
    assert response.status_code == 200, response.text


def button(action_id: str, handoff_id: int, user: str, root_ts: str) -> bytes:
    """A Block Kit button click as Slack sends it to the interactivity URL."""
    return interaction_body({
        "type": "block_actions", "team": {"id": "T0001"}, "api_app_id": "A0001",
        "user": {"id": user, "name": "someone"}, "trigger_id": "1.2.3",
        "channel": {"id": SUPPORT_CHANNEL, "name": "support"},
        "container": {"type": "message", "message_ts": root_ts, "channel_id": SUPPORT_CHANNEL},
        "message": {"type": "message", "ts": root_ts, "text": "Handoff", "user": BOT_USER_ID},
        "actions": [{"type": "button", "action_id": action_id, "block_id": f"handoff_{handoff_id}",
                     "value": str(handoff_id), "action_ts": "1700000999.1"}],
    })  # fmt: skip


def thread_reply(user: str, text: str, root_ts: str, ts: str) -> dict[str, Any]:
    return {"type": "message", "channel": SUPPORT_CHANNEL, "channel_type": "channel",
            "user": user, "text": text, "ts": ts, "thread_ts": root_ts}  # fmt: skip


def posts_in_thread(fake: FakeSlack, root_ts: str) -> list[str]:
    return [p["text"] for p in fake.posts() if p.get("thread_ts") == root_ts]


def test_handoff_round_trip(api: TestClient, fake_slack: FakeSlack, seeded_db_url: str) -> None:
    sid = secrets.token_hex(8)
    with api.websocket_connect(f"/v1/chat/web/ws?session_id={sid}") as ws:
        ws.send_json({"session_id": sid, "text": "my invoice total is wrong"})
        assert receive(ws)["messages"][0]["text"] == "echo: my invoice total is wrong"
        with session_scope(seeded_db_url) as session:  # as the bot's handoff action does
            conversation = session.scalars(
                select(Conversation).where(Conversation.external_id == sid)).one()  # fmt: skip
            handoff_id = open_handoff(session=session, conversation_id=conversation.id,
                                      reason="customer_request").id  # fmt: skip

        # 1. The deliverer opens a thread in the support channel, with buttons.
        root = fake_slack.wait_for(lambda f: [p for p in f.posts() if p.get("blocks")],
                                   what="the handoff thread")[0]  # fmt: skip
        assert root["channel"] == SUPPORT_CHANNEL and f"Handoff #{handoff_id}" in root["text"]
        blocks = json.dumps(root["blocks"])
        assert "my invoice total is wrong" in blocks and "handoff_claim" in blocks
        root_ts = root["ts"]

        def thread_recorded(_: FakeSlack) -> bool:
            with session_scope(seeded_db_url) as session:
                handoff = session.get(Handoff, handoff_id)
                assert handoff is not None
                return (handoff.slack_channel, handoff.slack_thread_ts) == (
                    SUPPORT_CHANNEL,
                    root_ts,
                )

        fake_slack.wait_for(thread_recorded, what="the thread recorded on the handoff")

        # 2. The customer writes: it goes to the thread, not to the bot.
        ws.send_json({"session_id": sid, "text": "hello, anyone there?"})
        assert receive(ws)["handoff"] == "pending"
        fake_slack.wait_for(lambda f: "*Customer:* hello, anyone there?"
                            in posts_in_thread(f, root_ts), what="the customer's line")  # fmt: skip

        # 3. A rep may not claim; the agent's Claim button does.
        signed(api, "/slack/events", button("handoff_claim", handoff_id, REP, root_ts))
        note = fake_slack.wait_for(lambda f: f.calls_to("chat.postEphemeral"), what="the refusal")
        assert note[0].params["user"] == REP and "Only support agents" in note[0].params["text"]
        signed(api, "/slack/events", button("handoff_claim", handoff_id, AGENT, root_ts))
        [joined] = pushed_texts(ws, 1)
        assert joined["text"] == "Ines Costa from the support team has joined the chat."
        fake_slack.wait_for(lambda f: any("claimed this handoff" in t
                                          for t in posts_in_thread(f, root_ts)))  # fmt: skip
        update = fake_slack.wait_for(lambda f: f.calls_to("chat.update"))[-1].params
        assert update["ts"] == root_ts and "Ines Costa has it" in json.dumps(update["blocks"])
        # A second click (or Slack re-sending it) changes nothing and says nothing new.
        signed(api, "/slack/events", button("handoff_claim", handoff_id, AGENT, root_ts))
        fake_slack.wait_for(lambda f: sum(c.params["user"] == AGENT and "You have handoff"
                                          in c.params["text"]
                                          for c in f.calls_to("chat.postEphemeral")) == 2,
                            what="the answer to the second click")  # fmt: skip
        notes = [t for t in posts_in_thread(fake_slack, root_ts) if "claimed this" in t]
        assert len(notes) == 1 and len(fake_slack.calls_to("chat.update")) == 1

        # 4. The agent's reply in the thread reaches the customer's socket at once.
        signed(api, "/slack/events", event_body(
            thread_reply(AGENT, "Hi, I'm checking <https://billing.example/inv|your invoice>.",
                         root_ts, "1700001000.000100"), "EvREPLY001"), form=False)  # fmt: skip
        [reply] = pushed_texts(ws, 1)
        assert reply["sender"] == "agent" and reply["agent_name"] == "Ines Costa"
        assert reply["text"] == "Hi, I'm checking your invoice (https://billing.example/inv)."

        # Another person's reply in the thread is not sent; they are told why, privately.
        signed(api, "/slack/events", event_body(
            thread_reply(REP, "I know this customer", root_ts, "1700001001.000100"),
            "EvREPLY002"), form=False)  # fmt: skip
        fake_slack.wait_for(lambda f: any("Not sent to the customer" in c.params["text"]
                                          for c in f.calls_to("chat.postEphemeral")))  # fmt: skip

        # 5. `/crm resolve`: the bot takes the chat back and asks for a rating.
        signed(
            api,
            "/slack/commands",
            command_body("resolve", AGENT, fake_slack.response_url("resolve")),
        )
        handback, question = pushed_texts(ws, 2)
        assert handback["text"].startswith("Ines Costa has closed this chat")
        assert question["text"].startswith("How satisfied are you")
        assert [b["payload"] for b in question["buttons"]] == ["1", "2", "3", "4", "5"]
        answer = fake_slack.wait_for(lambda f: f.calls_to("response:resolve"))[0]
        assert answer.params["text"] == (f"Handoff #{handoff_id} is resolved; the customer was "
                                         "asked for a rating.")  # fmt: skip

        resolved = fake_slack.wait_for(lambda f: len(f.calls_to("chat.update")) == 2
                                       and f.calls_to("chat.update"))[-1].params  # fmt: skip
        assert "Resolved by Ines Costa" in json.dumps(resolved["blocks"])
        assert "handoff_claim" not in json.dumps(resolved["blocks"])
        ws.send_json({"session_id": sid, "text": "5"})
        assert receive(ws)["messages"][-1]["text"] == "Thank you for your rating!"

    with session_scope(seeded_db_url) as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff and handoff.status is HandoffStatus.resolved and handoff.csat == 5
        lines = [
            (str(m.sender), m.text)
            for m in list_messages(session=session, conversation_id=handoff.conversation_id)
        ]
    assert ("agent", "Hi, I'm checking your invoice (https://billing.example/inv).") in lines
    assert ("user", "hello, anyone there?") in lines and ("user", "5") in lines
    assert not any(text == "I know this customer" for _, text in lines)


def test_customer_lines_wait_for_the_thread(
    api: TestClient, fake_slack: FakeSlack, seeded_db_url: str
) -> None:
    """Slack fails the thread's first post: the customer's line waits, then follows it."""
    fake_slack.fail_next("chat.postMessage", times=1, status=500)
    sid = secrets.token_hex(8)
    api.post("/v1/chat/web", json={"session_id": sid, "text": "hi"})
    with session_scope(seeded_db_url) as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == sid)).one()  # fmt: skip
        open_handoff(session=session, conversation_id=conversation.id, reason="bot_abstained")
    assert api.post("/v1/chat/web", json={"session_id": sid, "text": "hello?"}).json()[
        "handoff"] == "pending"  # fmt: skip
    runtime = api.app.state.slack
    # Drive the back-off clock forward instead of waiting minutes.
    later = utcnow() + timedelta(minutes=5)
    for _ in range(3):
        api.portal.call(runtime.deliverer.run_once, later)
        later += timedelta(minutes=5)
    posts = fake_slack.posts()
    assert [bool(p.get("blocks")) for p in posts][:2] == [True, False]
    assert posts[1]["text"] == "*Customer:* hello?" and posts[1]["thread_ts"] == posts[0]["ts"]


def test_claim_by_command_and_conflicts(
    api: TestClient, fake_slack: FakeSlack, seeded_db_url: str, linked: dict[str, int]
) -> None:
    sid = secrets.token_hex(8)
    api.post("/v1/chat/web", json={"session_id": sid, "text": "hi"})
    with session_scope(seeded_db_url) as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == sid)).one()  # fmt: skip
        handoff_id = open_handoff(session=session, conversation_id=conversation.id,
                                  reason="customer_request").id  # fmt: skip

    def crm(text: str, user: str, key: str) -> str:
        signed(api, "/slack/commands", command_body(text, user, fake_slack.response_url(key)))
        return fake_slack.wait_for(lambda f: f.calls_to(f"response:{key}"))[0].params["text"]

    assert crm("claim", REP, "rep") == (
        "Only support agents, managers and admins can take customer handoffs."
    )
    assert crm("claim 999999", AGENT, "missing") == "There is no handoff #999999."
    assert crm("claim", AGENT, "ok").startswith(f"You have handoff #{handoff_id}.")
    assert crm(f"claim {handoff_id}", AGENT, "twice").startswith(f"You have handoff #{handoff_id}")
    with session_scope(seeded_db_url) as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff and handoff.claimed_by_user_id == linked[AGENT]
        other = get_user_by_email(session=session, email="jonas.weber@crm-demo.example")
        assert other is not None
        link_slack(session=session, user_id=other.id, slack_user_id="UAGENT02")
    assert crm(f"claim {handoff_id}", "UAGENT02", "race") == (
        f"Could not claim handoff #{handoff_id}: handoff {handoff_id} is already claimed by "
        "Ines Costa"
    )
    assert crm("resolve", "UAGENT02", "none") == "You hold no open handoff."
    assert crm("resolve", AGENT, "done").startswith(f"Handoff #{handoff_id} is resolved")
    assert crm("claim", AGENT, "late") == "No handoff is waiting for an agent."
    assert crm(f"claim {handoff_id}", AGENT, "again").startswith(
        f"Could not claim handoff #{handoff_id}"
    )


def test_the_thread_shows_the_customers_context(seeded_session: Session) -> None:
    """A known customer's account, open orders and tickets and churn risk are in the post;
    customer text cannot ping the channel."""
    conversation = get_or_create_conversation(session=seeded_session, channel="web",
                                              external_id=secrets.token_hex(8))  # fmt: skip
    append_message(session=seeded_session, conversation_id=conversation.id, sender="user",
                   text="<!channel> where is my order?")  # fmt: skip
    account = seeded_session.scalars(
        select(Account).where(Account.name == DEMO.customer_account_name)).one()  # fmt: skip
    seeded_session.add(PredictionScore(account_id=account.id, kind="churn", score=0.82,
                                       label="high", model_version="t", reasons=[
        {"feature": "tenure", "text": "short tenure", "effect": 0.4},
        {"feature": "support", "text": "many support calls", "effect": 0.2},
        {"feature": "contract", "text": "two-year contract", "effect": -0.3}]))  # fmt: skip
    handoff = open_handoff(session=seeded_session, conversation_id=conversation.id,
                           reason="negative_sentiment", email=DEMO.customer_email)  # fmt: skip
    seeded_session.flush()
    note = ClaimedNotification(handoff.id, "handoff_opened", {"handoff_id": handoff.id}, 1)
    post = HandoffOpenedNotice("#support").render(seeded_session, note)
    text = json.dumps(post.blocks)
    assert post.channel == "#support" and "the customer sounds upset" in post.text
    assert DEMO.customer_account_name in text and DEMO.customer_ticket_number in text
    assert "typed into the chat, not verified" in text
    assert "82% high" in text and "short tenure; many support calls" in text
    assert "two-year" not in text  # only what raises the risk
    assert "&lt;!channel&gt; where is my order?" in text and "<!channel>" not in text
    assert DEMO.customer_order_number in text  # shipped, not yet delivered
    with pytest.raises(UndeliverableError, match="CRM_SLACK_SUPPORT_CHANNEL"):
        HandoffOpenedNotice(None).render(seeded_session, note)


def test_mentioning_the_bot_in_the_thread_claims_and_resolves_it(
    api: TestClient, fake_slack: FakeSlack, seeded_db_url: str
) -> None:
    sid = secrets.token_hex(8)
    api.post("/v1/chat/web", json={"session_id": sid, "text": "hi"})
    with session_scope(seeded_db_url) as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == sid)).one()  # fmt: skip
        handoff_id = open_handoff(session=session, conversation_id=conversation.id,
                                  reason="customer_request").id  # fmt: skip
    root = fake_slack.wait_for(lambda f: [p for p in f.posts() if p.get("blocks")])[0]
    fake_slack.wait_for(lambda f: _thread_known(seeded_db_url, handoff_id))

    def mention(text: str, ts: str, answer: str) -> None:
        event = {"type": "app_mention", "channel": SUPPORT_CHANNEL, "user": AGENT, "ts": ts,
                 "thread_ts": root["ts"], "text": f"<@{BOT_USER_ID}> {text}"}  # fmt: skip
        signed(api, "/slack/events", event_body(event, f"Ev{ts.replace('.', '')}"), form=False)
        fake_slack.wait_for(lambda f: any(p.get("thread_ts") == root["ts"]
                                          and p["text"].startswith(answer) for p in f.posts()),
                            what=answer)  # fmt: skip

    mention("claim", "1700002000.000001", f"You have handoff #{handoff_id}")
    mention("resolve", "1700002001.000001", f"Handoff #{handoff_id} is resolved")
    with session_scope(seeded_db_url) as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff and handoff.status is HandoffStatus.resolved


def _thread_known(url: str, handoff_id: int) -> bool:
    with session_scope(url) as session:
        handoff = session.get(Handoff, handoff_id)
        return bool(handoff and handoff.slack_thread_ts)
