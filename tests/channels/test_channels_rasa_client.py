"""Translating Rasa's webhook reply, and probing servers that are not there."""

from __future__ import annotations

import httpx
import pytest

from channels.rasa_client import AssistantUnavailableError, RasaClient, parse_rasa_messages
from channels.schemas import BotMessage, Button, ChatResponse
from channels.turns import bot_message_meta


def _reply(payload: object) -> httpx.Response:
    return httpx.Response(200, json=payload)


def test_parse_keeps_text_and_buttons_in_order() -> None:
    reply = _reply(
        [
            {"recipient_id": "web-1", "text": "Hello"},
            {
                "recipient_id": "web-1",
                "text": "Which one?",
                "buttons": [{"title": "Acme", "payload": '/pick{"id": 1}'}],
            },
        ]
    )
    assert parse_rasa_messages(reply) == [
        BotMessage(text="Hello"),
        BotMessage(text="Which one?", buttons=[Button(title="Acme", payload='/pick{"id": 1}')]),
    ]


def test_parse_drops_messages_we_cannot_show_and_malformed_buttons() -> None:
    reply = _reply(
        [
            {"recipient_id": "web-1", "image": "https://example.invalid/x.png"},
            {"recipient_id": "web-1", "custom": {"a": 1}},
            "not a message",
            {"text": "Pick", "buttons": [{"title": "No payload"}, {"title": 3, "payload": "x"}]},
        ]
    )
    assert parse_rasa_messages(reply) == [BotMessage(text="Pick")]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"error": "boom"}),
        httpx.Response(200, content=b"<html>not json</html>"),
    ],
)
def test_parse_refuses_anything_but_a_list(response: httpx.Response) -> None:
    with pytest.raises(AssistantUnavailableError):
        parse_rasa_messages(response)


async def test_send_turn_to_a_closed_port_is_unavailable(closed_port_url: str) -> None:
    client = RasaClient(
        rasa_url=closed_port_url,
        action_server_url=closed_port_url,
        timeout_s=2.0,
        probe_timeout_s=1.0,
    )
    try:
        with pytest.raises(AssistantUnavailableError):
            await client.ask(sender="web-1", text="hi", identity={"role": "customer"})
        rasa = await client.probe_rasa()
        actions = await client.probe_action_server()
    finally:
        await client.aclose()
    assert (rasa.status, rasa.detail) == ("down", "unreachable")
    assert (actions.status, actions.detail) == ("down", "unreachable")


def test_outcome_mark_rides_on_the_message_before_it_and_stays_out_of_the_api() -> None:
    """bot/domain.yml marks fallback replies with `custom.crm_outcome`; Rasa sends the custom
    part as its own message after the text (split on blank lines)."""
    reply = _reply(
        [
            {"recipient_id": "web-1", "text": "Sorry, I didn't get that."},
            {"recipient_id": "web-1", "text": "Could you rephrase?"},
            {"recipient_id": "web-1", "custom": {"crm_outcome": "fallback"}},
            {"recipient_id": "web-1", "text": "I don't know.", "buttons": []},
            {"recipient_id": "web-1", "custom": {"crm_outcome": "abstain"}},
            {"recipient_id": "web-1", "custom": {"crm_outcome": "<script>"}},
        ]
    )
    messages = parse_rasa_messages(reply)
    assert [m.outcome for m in messages] == [None, "fallback", "abstain"]
    assert bot_message_meta(messages[1]) == {"outcome": "fallback"}
    assert bot_message_meta(BotMessage(text="hi")) == {}
    # The mark is for the transcript: clients and the OpenAPI schema never see it.
    assert "outcome" not in ChatResponse(session_id="s" * 8, messages=messages).model_dump_json()
    assert "outcome" not in BotMessage.model_json_schema()["properties"]
    orphan = parse_rasa_messages(_reply([{"custom": {"crm_outcome": "fallback"}}]))
    assert orphan == []
