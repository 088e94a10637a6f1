"""Shared by the Slack tests: the test secrets, the linked Slack ids, settings builders."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
from fake_slack import FakeSlack

from channels.config import Settings
from channels.slack.settings import SlackSettings

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
SUPPORT_CHANNEL = "C0SUPPORT"
# Slack member ids linked to the demo staff by the `linked` fixture (Ines is a support agent).
AGENT = "UAGENT01"
REP = "UREP0001"
OTHER_REP = "UREP0002"
STRANGER = "USTRANGE"

# `send_event(event, event_id, headers=None, client=None)`: a signed Events API request.
Sender = Callable[..., httpx.Response]


def closed_port_url() -> str:
    """URL of a loopback port nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def make_slack_settings(fake: FakeSlack, **overrides: Any) -> SlackSettings:
    """Slack settings pointing at the fake, with quick test intervals."""
    values: dict[str, Any] = {
        "signing_secret": SECRET, "bot_token": TOKEN, "api_url": fake.api_url,
        "support_channel": SUPPORT_CHANNEL, "deliver_interval_s": 0.2, "backoff_base_s": 5.0,
        "request_timeout_s": 5,
    }  # fmt: skip
    return SlackSettings(**{**values, **overrides})


def app_settings(database_url: str, slack: SlackSettings, rasa_url: str | None = None,
                 action_server_url: str | None = None) -> Settings:  # fmt: skip
    """API settings on `database_url`, Slack pointed at the fake; Rasa down unless given."""
    down = closed_port_url()
    return Settings(database_url=database_url, rasa_url=rasa_url or down,
                    action_server_url=action_server_url or down, rasa_timeout_s=2.0,
                    probe_timeout_s=1.0, slack=slack)  # fmt: skip
