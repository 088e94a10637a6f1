"""What the API keeps of a chat turn holds no PII: the stored transcript and the logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from bot.actions.base import reply_failure
from channels.app import create_app
from channels.config import Settings
from channels.errors import log_server_fault
from crm_store.log_redaction import RedactingFilter, install_log_redaction, redact_record
from tests.channels.stand_in_rasa import stand_in_rasa

EMAIL, CARD = "nora.fields@northwind.example", "4111 1111 1111 1111"


def test_a_web_turn_stores_email_and_card_redacted(client: TestClient, transcript) -> None:
    text = f"my email is {EMAIL} and my card {CARD}, order ORD-100001"
    response = client.post("/v1/chat/web", json={"session_id": "privacy-1", "text": text})
    assert response.status_code == 503  # Rasa is down here; the message is stored all the same
    assert transcript("web", "privacy-1") == [
        ("user", "my email is [email] and my card [card], order ORD-100001")
    ]


def test_rasa_gets_the_raw_text_and_both_sides_are_stored_redacted(
    settings: Settings, transcript
) -> None:
    text = f"I'm {EMAIL}, card {CARD}, IBAN DE89 3704 0044 0532 0130 00, order ORD-100001"
    with stand_in_rasa() as (rasa_url, turns):
        app = create_app(settings.model_copy(update={"rasa_url": rasa_url}))
        with TestClient(app) as client:
            response = client.post("/v1/chat/web", json={"session_id": "privacy-3", "text": text})
    assert response.status_code == 200, response.text
    assert turns[-1]["message"] == text  # the bot sees what the customer typed
    masked = "I'm [email], card [card], IBAN [iban], order ORD-100001"
    assert transcript("web", "privacy-3") == [("user", masked), ("bot", f"echo: {masked}")]


def test_a_rep_turn_is_stored_redacted(client: TestClient, bearer, rep_token, transcript) -> None:
    response = client.post(
        "/v1/chat/rep",
        json={
            "session_id": "privacy-2",
            "text": f"who is {EMAIL}? IBAN DE89 3704 0044 0532 0130 00",
        },
        headers=bearer(rep_token),
    )
    assert response.status_code == 503
    stored = [
        text for _sender, text in transcript("rep", f"user-{_rep_id(client)}:privacy-2") or []
    ]
    assert stored == ["who is [email]? IBAN [iban]"]


def _rep_id(client: TestClient) -> int:
    from crm_store.db import session_scope
    from crm_store.demo import DEMO_CREDENTIALS
    from crm_store.queries.users import get_user_by_email

    with session_scope(client.app.state.settings.database_url) as session:
        user = get_user_by_email(session=session, email=DEMO_CREDENTIALS.rep_email)
        assert user is not None
        return user.id


@pytest.fixture
def redacting_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Records of this process are masked (the app factory installs this in the API)."""
    install_log_redaction()
    caplog.set_level(logging.INFO)
    return caplog


def test_log_lines_are_redacted(redacting_logs: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("channels.test")
    log.info("turn from %s with card %s", EMAIL, CARD)
    log.warning(f"inline {EMAIL}")
    log.info("mapping %(who)s", {"who": EMAIL})
    log.info("split %s@%s", "nora.fields", "northwind.example")
    log.info("count %d for %s", 3, "ORD-100001")
    assert EMAIL not in redacting_logs.text and CARD not in redacting_logs.text
    assert redacting_logs.messages == [
        "turn from [email] with card [card]",
        "inline [email]",
        "mapping [email]",
        "split [email]",
        "count 3 for ORD-100001",
    ]


def test_a_failed_action_logs_its_traceback_without_the_users_text(
    redacting_logs: pytest.LogCaptureFixture,
) -> None:
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    try:
        raise ValueError(f"no order for {EMAIL} paid with {CARD}")
    except ValueError:
        reply_failure(dispatcher, 0, "action_order_status")
    assert "ValueError: no order for [email] paid with [card]" in redacting_logs.text
    assert EMAIL not in redacting_logs.text and CARD not in redacting_logs.text
    assert dispatcher.messages[0]["response"] == "utter_something_went_wrong"


def test_server_faults_and_the_filter_mask_too(redacting_logs: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError(EMAIL)
    except RuntimeError as exc:
        log_server_fault(exc, f"POST /v1/chat/web?email={EMAIL}")
    assert EMAIL not in redacting_logs.text
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", (EMAIL,), None)
    assert RedactingFilter().filter(record) and record.getMessage() == "to [email]"
    assert redact_record(record) is record
