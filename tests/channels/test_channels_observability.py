"""Metrics, request ids and JSON logs of the API."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.app import create_app
from channels.config import Settings
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.log_context import REQUEST_ID, JsonFormatter, install_log_context
from crm_store.log_redaction import install_log_redaction
from crm_store.queries.conversations import get_or_create_conversation
from crm_store.queries.handoffs import open_handoff


@pytest.fixture
def metered(settings: Settings) -> TestClient:
    app = create_app(settings.model_copy(update={"metrics_token": SecretStr("prom-token-1")}))
    with TestClient(app) as client:
        yield client


def _metrics(client: TestClient, token: str) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_metrics_need_the_metrics_token_or_an_admin(metered: TestClient) -> None:
    assert metered.get("/metrics").status_code == 401
    for token in ("wrong", DEMO_CREDENTIALS.rep_token, DEMO_CREDENTIALS.manager_token):
        response = metered.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
    assert "crm_turn_seconds" in _metrics(metered, "prom-token-1")
    assert "crm_turn_seconds" in _metrics(metered, DEMO_CREDENTIALS.admin_token)


def test_turns_and_store_facts_are_counted(metered: TestClient, settings: Settings) -> None:
    def unavailable_turns() -> float:
        for line in _metrics(metered, "prom-token-1").splitlines():
            if line.startswith('crm_turn_seconds_count{channel="web",outcome="unavailable"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = unavailable_turns()
    turn = metered.post("/v1/chat/web", json={"session_id": "metrics-test-1", "text": "hi"})
    assert turn.status_code == 503  # Rasa is down in these tests
    assert unavailable_turns() == before + 1
    with session_scope(settings.database_url) as session:
        conversation = get_or_create_conversation(session=session, channel="web",
                                                  external_id="metrics-handoff")  # fmt: skip
        open_handoff(session=session, conversation_id=conversation.id, reason="customer_request")
    metered.app.state.store_metrics = None  # skip the 10 s cache
    text = _metrics(metered, "prom-token-1")
    assert 'crm_handoffs_total{reason="customer_request"' in text
    assert 'crm_conversations{channel="web",status="handoff_pending"}' in text


def test_every_response_has_a_request_id(client: TestClient) -> None:
    chosen = client.get("/v1/health", headers={"X-Request-ID": "abc-1234567"})
    assert chosen.headers["x-request-id"] == "abc-1234567"
    forged = client.get("/v1/health", headers={"X-Request-ID": "bad id\nINFO fake line"})
    generated = forged.headers["x-request-id"]
    assert generated != "bad id\nINFO fake line" and len(generated) == 32
    assert client.get("/v1/health").headers["x-request-id"] != generated


def test_json_log_lines_carry_the_ids_and_no_pii() -> None:
    install_log_redaction()
    install_log_context()
    token = REQUEST_ID.set("req-77777777")
    try:
        record = logging.getLogger("crm.test").makeRecord(
            "crm.test", logging.INFO, __file__, 1, "reply to %s", ("jane@acme.example",), None
        )
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-77777777"
    assert line["msg"] == "reply to [email]"
    assert line["level"] == "INFO" and line["ts"].endswith("Z")
