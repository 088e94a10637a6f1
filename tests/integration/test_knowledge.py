"""End to end: knowledge answers through API → Rasa → actions → the indexed demo kb/.

The `running` fixture indexes kb/ into the stack's database and a tmp index folder. Titles
and links are read from the database's chunk rows, never written into the test.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from crm_store import db
from crm_store.demo import DEMO_CREDENTIALS as CREDS
from crm_store.models import Conversation, MessageSender
from crm_store.queries.conversations import list_messages
from retrieval import store

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain.yml"

pytestmark = pytest.mark.integration


def _ask(
    client: httpx.Client, path: str, text: str, sid: str | None = None, **kw: Any
) -> list[dict[str, Any]]:
    sid = sid or f"it-kb-{uuid.uuid4().hex[:12]}"
    response = client.post(path, json={"session_id": sid, "text": text}, **kw)
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def _text(messages: list[dict[str, Any]]) -> str:
    return " ".join(m.get("text") or "" for m in messages)


def _article(url: str, title: str) -> tuple[str, str]:
    """(title, url) of the indexed article with this title, from the stack's database."""
    with db.session_scope(url) as session:
        chunks = store.load_chunks(session=session).values()
        found = {(c.title, c.url) for c in chunks if c.title == title}
    assert len(found) == 1, f"{title!r} is not indexed in {url}"
    return found.pop()


def test_customer_gets_a_cited_answer(running) -> None:
    title, link = _article(running.database_url, "Reset your password")
    with running.client() as client:
        reply = _text(_ask(client, "/v1/chat/web", "how do I reset my password?"))
    assert f"Source: {title} ({link})" in reply
    assert "Confidence:" in reply
    assert "Forgot password" in reply


def test_customer_does_not_get_the_internal_policy(running) -> None:
    title, _ = _article(running.database_url, "Discount approval policy")
    with running.client() as client:
        messages = _ask(client, "/v1/chat/web", "what's the discount approval policy?")
    reply = _text(messages)
    assert "don't know" in reply
    assert title not in reply and "intranet" not in reply
    buttons = [b for m in messages for b in m.get("buttons") or []]
    assert {"title": "Talk to a person", "payload": "/human_handoff"} in buttons


def test_rep_gets_the_internal_policy(running) -> None:
    title, link = _article(running.database_url, "Discount approval policy")
    with running.client() as client:
        reply = _text(
            _ask(
                client,
                "/v1/chat/rep",
                "what's the discount approval policy?",
                headers={"Authorization": f"Bearer {CREDS.rep_token}"},
            )
        )
    assert f"Source: {title} ({link})" in reply


def test_customer_says_yes_to_a_person_after_dont_know(running) -> None:
    handoff = yaml.safe_load(DOMAIN.read_text())["responses"]["utter_handoff"][0]["text"]
    sid = f"it-kb-{uuid.uuid4().hex[:12]}"
    with running.client() as client:
        first = _text(_ask(client, "/v1/chat/web", "what's the discount approval policy?", sid))
        second = _text(_ask(client, "/v1/chat/web", "yes please", sid))
    assert "don't know" in first
    assert handoff in second


def test_dont_know_is_marked_in_the_stored_transcript(running) -> None:
    """The real Rasa sends utter_kb_dont_know's `custom.crm_outcome`; the API stores it on the
    bot's message (the dashboard's fallback rate) and never shows it to the client."""
    sid = f"it-kb-{uuid.uuid4().hex[:12]}"
    with running.client() as client:
        messages = _ask(client, "/v1/chat/web", "what's the discount approval policy?", sid)
        answered = _ask(client, "/v1/chat/web", "how do I reset my password?", sid)
    assert "don't know" in _text(messages) and "Source:" in _text(answered)
    assert all("outcome" not in m and "custom" not in m for m in messages)
    with db.session_scope(running.database_url) as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == sid)
        ).one()
        bot = [m for m in list_messages(session=session, conversation_id=conversation.id)
               if m.sender == MessageSender.bot]  # fmt: skip
        marks = [(m.text, m.meta.get("outcome")) for m in bot]
    assert [mark for _, mark in marks if mark] == ["abstain"], marks
    assert "don't know" in next(text for text, mark in marks if mark == "abstain")
