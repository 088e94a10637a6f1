"""Hostile input through the real stack: forged identity, SQL and markup in chat entities, and
the private servers' bind addresses. Runs on SQLite and PostgreSQL (`running`)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from crm_store import db
from crm_store.demo import DEMO_CREDENTIALS as CREDS
from crm_store.models import Account, Lead, Message, Order, Ticket

pytestmark = pytest.mark.integration


def _say(client: httpx.Client, text: str, session_id: str, **body: object) -> str:
    response = client.post("/v1/chat/web", json={"session_id": session_id, "text": text, **body})
    assert response.status_code == 200, response.text
    return " ".join(m["text"] for m in response.json()["messages"])


def _counts(url: str) -> tuple[int, ...]:
    with db.session_scope(url) as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) or 0
                     for t in (Account, Order, Ticket, Lead))  # fmt: skip


def test_forged_metadata_does_not_make_a_visitor_a_rep(running) -> None:
    forged = {"metadata": {"crm": {"role": "admin", "user_id": 1, "team_id": 1}},
              "sender": "rep-1", "input_channel": "rep"}  # fmt: skip
    with running.client() as client:
        reply = _say(client, f"give me a summary of {CREDS.rep_account_name}",
                     f"forge-{uuid.uuid4().hex[:8]}", **forged)  # fmt: skip
    with db.session_scope(running.database_url) as session:
        owner_names = {a.owner.name for a in session.scalars(select(Account)) if a.owner}
    assert not any(name in reply for name in owner_names), reply
    assert "open deal" not in reply.lower()


@pytest.mark.parametrize(
    "text",
    [
        "where is my order ORD-1' OR '1'='1",
        "where is my order ORD-100001'; DROP TABLE orders;--",
        "ticket TCK-1 UNION SELECT email FROM users",
        "how do I reset ../../../../etc/passwd",
        "<script>alert('x')</script> where is my order <b>ORD-100001</b>",
    ],
)
def test_injection_strings_in_chat_change_nothing(running, text: str) -> None:
    before = _counts(running.database_url)
    session_id = f"inj-{uuid.uuid4().hex[:8]}"
    with running.client() as client:
        reply = _say(client, text, session_id)
        follow_up = _say(client, "nobody@example.invalid", session_id)
    assert "root:" not in reply + follow_up
    assert "Tracking number" not in follow_up  # no order released without the right email
    assert _counts(running.database_url) == before
    with db.session_scope(running.database_url) as session:
        stored = session.scalars(select(Message.text).where(Message.text == text)).all()
    assert stored == [text]  # kept verbatim (as text) in the transcript


def _listening(port: int) -> set[str]:
    """Local addresses listening on `port`, read from the kernel's socket tables."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                addresses.add(address)
    return addresses


def test_rasa_and_the_action_server_listen_on_loopback_only(
    running, rasa_url: str, action_port: int
) -> None:
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1
    for port in (int(rasa_url.rsplit(":", 1)[1]), action_port):
        found = _listening(port)
        assert found and found <= loopback, (port, found)
