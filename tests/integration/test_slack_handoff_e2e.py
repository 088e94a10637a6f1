"""Human handoff through Slack across the real processes: Rasa, the action server, and the
API under uvicorn with Slack configured, talking to a fake Slack Web API on loopback.

The customer asks for a person in their own words over a live WebSocket; the bot's action
opens the handoff; the API's deliverer posts the thread to the fake Slack; a signed "Claim"
click and a signed reply in the thread reach the customer's socket; "Resolve" hands the chat
back and the customer's rating is stored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from crm_cli import stack
from crm_store import db
from crm_store.demo import DEMO_CREDENTIALS as CREDS
from crm_store.models import Conversation, Handoff, HandoffStatus, Message
from crm_store.queries.users import get_user_by_email, link_slack
from tests.slack.fake_slack import BOT_USER_ID, FakeSlack, event_body, interaction_body, sign

pytestmark = pytest.mark.integration

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain.yml"
SECRET = "integration-signing-secret"
SUPPORT = "C0SUPPORT"
AGENT = "UAGENTIT1"


@pytest.fixture
def slack_stack(running, rasa_url: str, action_port: int, log_dir: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, FakeSlack]]:  # fmt: skip
    """A second API process on the same database and bot, with Slack pointed at a fake."""
    with db.session_scope(running.database_url) as session:
        agent = get_user_by_email(session=session, email=CREDS.agent_email)
        assert agent is not None
        link_slack(session=session, user_id=agent.id, slack_user_id=AGENT)
    with FakeSlack() as fake:
        for name, value in {"SIGNING_SECRET": SECRET, "BOT_TOKEN": "xoxb-it",
                            "API_URL": fake.api_url, "SUPPORT_CHANNEL": SUPPORT,
                            "DELIVER_INTERVAL_S": "0.2"}.items():  # fmt: skip
            monkeypatch.setenv(f"CRM_SLACK_{name}", value)
        port = stack.free_port()
        api = stack.api_server(port, rasa_url=rasa_url, action_url=f"http://127.0.0.1:{action_port}",
                               database_url=running.database_url, log_dir=log_dir)  # fmt: skip
        stack.start_all([api])
        try:
            yield f"http://127.0.0.1:{port}", fake
        finally:
            stack.stop_all([api])


def _handoff_of(url: str, session_id: str) -> int:
    """The id of the handoff opened for the web conversation with this session id."""
    with db.session_scope(url) as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == session_id)
        ).one()
        return session.scalars(
            select(Handoff.id).where(Handoff.conversation_id == conversation.id)
        ).one()


def _signed(api: httpx.Client, body: bytes, form: bool) -> None:
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    response = api.post("/slack/events", content=body,
                        headers={"Content-Type": kind, **sign(SECRET, body)})  # fmt: skip
    assert response.status_code == 200, response.text


def _button(action: str, handoff_id: int, root_ts: str) -> bytes:
    return interaction_body({
        "type": "block_actions", "user": {"id": AGENT}, "team": {"id": "T0001"},
        "channel": {"id": SUPPORT}, "message": {"ts": root_ts, "user": BOT_USER_ID},
        "container": {"type": "message", "message_ts": root_ts, "channel_id": SUPPORT},
        "actions": [{"type": "button", "action_id": action, "value": str(handoff_id)}],
    })  # fmt: skip


def _push(ws: ClientConnection, count: int = 1) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    while len(lines) < count:
        frame = json.loads(ws.recv(timeout=20))
        assert frame.get("type") == "push", frame
        lines.extend(frame["messages"])
    return lines


def _turn(ws: ClientConnection, sid: str, text: str) -> dict[str, Any]:
    ws.send(json.dumps({"session_id": sid, "text": text}))
    return json.loads(ws.recv(timeout=60))


def test_customer_reaches_an_agent_in_slack_and_back(slack_stack, running) -> None:
    api_url, fake = slack_stack
    sid = f"it-slack-{uuid.uuid4().hex[:12]}"
    handoff_line = yaml.safe_load(DOMAIN.read_text())["responses"]["utter_handoff"][0]["text"]
    ws_url = api_url.replace("http://", "ws://") + f"/v1/chat/web/ws?session_id={sid}"
    with httpx.Client(base_url=api_url, timeout=30) as api, connect(ws_url) as ws:
        reply = _turn(ws, sid, "can I talk to a human please?")
        assert handoff_line in [m["text"] for m in reply["messages"]]

        # Earlier tests on this database leave handoff threads in the outbox, which this API's
        # deliverer posts too: find this conversation's own thread by its handoff id.
        handoff_id = _handoff_of(running.database_url, sid)
        title = f"Handoff #{handoff_id}:"
        root = fake.wait_for(lambda f: [p for p in f.posts() if p.get("blocks")
                                        and p.get("text", "").startswith(title)],
                             timeout=20, what="the handoff thread")[0]  # fmt: skip
        assert root["channel"] == SUPPORT
        assert "can I talk to a human" in json.dumps(root["blocks"])

        _signed(api, _button("handoff_claim", handoff_id, root["ts"]), form=True)
        assert "Ines Costa from the support team has joined" in _push(ws)[0]["text"]

        event = {"type": "message", "channel": SUPPORT, "channel_type": "channel", "user": AGENT,
                 "text": "Hi, Ines here. How can I help?", "ts": f"{root['ts']}1",
                 "thread_ts": root["ts"]}  # fmt: skip
        _signed(api, event_body(event, f"Ev{uuid.uuid4().hex[:10]}"), form=False)
        [line] = _push(ws)
        assert (line["text"], line["sender"]) == ("Hi, Ines here. How can I help?", "agent")

        ack = _turn(ws, sid, "my invoice is wrong")
        assert ack["handoff"] == "claimed"
        fake.wait_for(
            lambda f: any(
                p.get("thread_ts") == root["ts"] and p["text"] == "*Customer:* my invoice is wrong"
                for p in f.posts()
            ),
            what="the customer's line in the thread",
        )

        _signed(api, _button("handoff_resolve", handoff_id, root["ts"]), form=True)
        handback, question = _push(ws, 2)
        assert "has closed this chat" in handback["text"] and question["buttons"]
        assert "Thank you" in _turn(ws, sid, "4")["messages"][-1]["text"]

    with db.session_scope(running.database_url) as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff and handoff.status is HandoffStatus.resolved and handoff.csat == 4
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == sid)).one()  # fmt: skip
        senders = {m.sender.value for m in session.scalars(
            select(Message).where(Message.conversation_id == conversation.id))}  # fmt: skip
    assert {"user", "bot", "agent", "system"} <= senders
