"""Human handoff across the real processes: Rasa, the action server and the API.

The customer talks over a live WebSocket; the agent acts through `/v1/handoffs` (which calls
the same relay functions the Slack adapter calls, inside the API process). Checked: the bot
opens the handoff, the outbox holds the Slack notification, the agent's words reach the open
socket at once, a closed socket gets them on reconnect, the customer's messages go to the
agent and not to the bot, and the rating after the hand-back is stored. Then the same in
Chromium: the page shows the agent's line as text and the rating buttons work.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from crm_store import db
from crm_store.demo import DEMO_CREDENTIALS as CREDS
from crm_store.models import Conversation, Handoff, Message, Notification

pytestmark = pytest.mark.integration

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain.yml"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
AGENT = {"Authorization": f"Bearer {CREDS.agent_token}"}


def _utterance(name: str) -> str:
    return yaml.safe_load(DOMAIN.read_text())["responses"][name][0]["text"]


def _ws_url(api_url: str, sid: str) -> str:
    return api_url.replace("http://", "ws://") + f"/v1/chat/web/ws?session_id={sid}"


def _turn(ws: ClientConnection, sid: str, text: str) -> dict[str, Any]:
    ws.send(json.dumps({"session_id": sid, "text": text}))
    return json.loads(ws.recv(timeout=60))


def _push(ws: ClientConnection) -> list[dict[str, Any]]:
    frame = json.loads(ws.recv(timeout=15))
    assert frame["type"] == "push", frame
    return frame["messages"]


def _handoff(url: str, sid: str) -> tuple[Handoff, list[Notification]]:
    with db.session_scope(url) as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == sid)
        ).one()
        handoff = session.scalars(
            select(Handoff).where(Handoff.conversation_id == conversation.id)
        ).one()
        notes = list(session.scalars(select(Notification).order_by(Notification.id)))
        session.expunge_all()
        return handoff, [n for n in notes if n.payload.get("handoff_id") == handoff.id]


def _transcript(url: str, sid: str) -> list[tuple[str, str]]:
    with db.session_scope(url) as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == sid)
        ).one()
        rows = session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        )
        return [(m.sender.value, m.text) for m in rows]


def test_customer_gets_a_person_over_a_live_socket(running) -> None:
    sid = f"it-handoff-{uuid.uuid4().hex[:12]}"
    api = httpx.Client(base_url=running.api_url, timeout=60.0)
    with connect(_ws_url(running.api_url, sid)) as ws:
        reply = _turn(ws, sid, "can I talk to a human please?")
        assert _utterance("utter_handoff") in [m["text"] for m in reply["messages"]]
        handoff, notes = _handoff(running.database_url, sid)
        assert (handoff.status.value, handoff.reason.value) == ("pending", "customer_request")
        assert [(n.channel, n.kind, n.dedupe_key) for n in notes] == [
            ("slack", "handoff_opened", f"handoff_opened:{handoff.id}")
        ]
        assert api.post(f"/v1/handoffs/{handoff.id}/claim", headers=AGENT).status_code == 200
        assert "joined the chat" in _push(ws)[0]["text"]
        api.post(f"/v1/handoffs/{handoff.id}/reply", headers=AGENT, json={"text": "Hi, Ines here."})
        [line] = _push(ws)
        assert (line["text"], line["sender"], line["agent_name"]) == (
            "Hi, Ines here.", "agent", "Ines Costa")  # fmt: skip
        ack = _turn(ws, sid, "my order is late")
        assert ack["messages"] == [] and ack["handoff"] == "claimed"
    # Offline: the reply waits, and the next socket of the same session gets it on connect.
    api.post(f"/v1/handoffs/{handoff.id}/reply", headers=AGENT, json={"text": "Found it."})
    with connect(_ws_url(running.api_url, sid)) as ws:
        assert [m["text"] for m in _push(ws)] == ["Found it."]
        api.post(f"/v1/handoffs/{handoff.id}/resolve", headers=AGENT)
        handback, question = _push(ws)
        assert [b["payload"] for b in question["buttons"]] == ["1", "2", "3", "4", "5"]
        thanks = _turn(ws, sid, "5")
        assert thanks["messages"] == [{"text": "Thank you for your rating!"}]
        back = _turn(ws, sid, "hi")  # the bot has the conversation again
        assert back["messages"] and "handoff" not in back
    api.close()
    handoff, notes = _handoff(running.database_url, sid)
    assert handoff.status.value == "resolved" and handoff.csat == 5
    assert handoff.first_agent_reply_at is not None
    assert [n.kind for n in notes] == ["handoff_opened", "handoff_customer_message"]
    senders = [sender for sender, _ in _transcript(running.database_url, sid)]
    # One transcript: the bot never answered "my order is late"; the agent did.
    assert senders[:4] == ["user", "system", "bot", "system"]
    assert {"user", "bot", "agent", "system"} == set(senders)


def test_chat_page_shows_the_agent_and_takes_a_rating(running) -> None:
    api = httpx.Client(base_url=running.api_url, timeout=60.0)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.goto(f"{running.api_url}/")
        page.wait_for_function("() => !document.querySelector('#send').disabled")
        page.fill("#text", "I want to speak to a person")
        page.keyboard.press("Enter")
        page.get_by_text(_utterance("utter_handoff")).wait_for(timeout=60_000)
        sid = page.evaluate("() => localStorage.getItem('crm.web.session')")
        handoff, _ = _handoff(running.database_url, sid)
        hostile = "<b>Hello</b> from the team"
        api.post(f"/v1/handoffs/{handoff.id}/reply", headers=AGENT, json={"text": hostile})
        agent_line = page.locator("#log .msg.agent").last
        agent_line.wait_for(timeout=15_000)
        assert agent_line.text_content() == "Ines Costa" + hostile
        assert page.locator("#log b").count() == 0
        api.post(f"/v1/handoffs/{handoff.id}/resolve", headers=AGENT)
        page.get_by_role("button", name="4", exact=True).click(timeout=15_000)
        page.get_by_text("Thank you for your rating!").wait_for(timeout=15_000)
        ARTIFACTS.mkdir(exist_ok=True)
        kind = "postgresql" if "postgresql" in running.database_url else "sqlite"
        page.screenshot(path=str(ARTIFACTS / f"handoff-chat-{kind}.png"), full_page=True)
        browser.close()
    api.close()
    handoff, _ = _handoff(running.database_url, sid)
    assert handoff.csat == 4


def _post(api: httpx.Client, sid: str, text: str) -> dict[str, Any]:
    response = api.post("/v1/chat/web", json={"session_id": sid, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def test_two_dont_knows_and_an_upset_customer_get_a_person(running) -> None:
    question = "what's the discount approval policy?"  # internal: customers get "I don't know"
    with httpx.Client(base_url=running.api_url, timeout=60.0) as api:
        sid = f"it-abstain-{uuid.uuid4().hex[:12]}"
        first = [m["text"] for m in _post(api, sid, question)["messages"]]
        second = [m["text"] for m in _post(api, sid, question)["messages"]]
        assert any("don't know" in t for t in first)
        assert second == [_utterance("utter_kb_dont_know_again"), _utterance("utter_handoff")]
        handoff, notes = _handoff(running.database_url, sid)
        assert handoff.reason.value == "bot_abstained" and [n.kind for n in notes] == [
            "handoff_opened"
        ]
        upset = f"it-upset-{uuid.uuid4().hex[:12]}"
        reply = _post(api, upset, "I am so angry and frustrated with this useless service")
        assert [m["text"] for m in reply["messages"]] == [_utterance("utter_handoff")]
        handoff, _ = _handoff(running.database_url, upset)
        assert handoff.reason.value == "negative_sentiment"
