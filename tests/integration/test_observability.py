"""Through the real stack: what NLU understood is stored with the user's message and shows in
`/metrics`, and the request id reaches the action server's context."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from crm_store import db
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.models import Message


def _metric(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(prefix))  # fmt: skip


def test_nlu_result_is_stored_and_measured(running) -> None:
    admin = {"Authorization": f"Bearer {DEMO_CREDENTIALS.admin_token}"}
    session_id = f"obs-{uuid.uuid4().hex[:8]}"
    with running.client() as client:
        before = client.get("/metrics", headers=admin).text
        reply = client.post("/v1/chat/web", json={"session_id": session_id, "text": "hello there"},
                            headers={"X-Request-ID": f"req-{session_id}"})  # fmt: skip
        assert reply.status_code == 200 and reply.headers["x-request-id"] == f"req-{session_id}"
        assert all("crm_nlu" not in m["text"] for m in reply.json()["messages"])
        after = client.get("/metrics", headers=admin).text
    with db.session_scope(running.database_url) as session:
        stored = session.scalars(select(Message).where(Message.text == "hello there")).all()
    mine = [m for m in stored if m.intent is not None]
    assert mine and mine[-1].intent == "greet" and 0.0 < mine[-1].confidence <= 1.0
    counts = 'crm_nlu_confidence_count{channel="web"}'
    assert _metric(after, counts) == _metric(before, counts) + 1
    answered = 'crm_turn_seconds_count{channel="web",outcome="answered"}'
    assert _metric(after, answered) >= _metric(before, answered) + 1


def test_a_dont_know_is_counted_as_an_abstention(running) -> None:
    admin = {"Authorization": f"Bearer {DEMO_CREDENTIALS.admin_token}"}
    series = 'crm_bot_fallbacks_total{channel="web",outcome="abstain"}'
    with running.client() as client:
        before = _metric(client.get("/metrics", headers=admin).text, series)
        reply = client.post(
            "/v1/chat/web",
            json={
                "session_id": f"obs-{uuid.uuid4().hex[:8]}",
                "text": "what's the discount approval policy?",
            },
        )
        assert reply.status_code == 200 and "don't know" in reply.text
        after = _metric(client.get("/metrics", headers=admin).text, series)
    assert after == before + 1
