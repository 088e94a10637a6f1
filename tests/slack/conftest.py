"""Slack fixtures: a fake Slack Web API on loopback, the real API on the seeded database
(SQLite and PostgreSQL), and Slack users linked to the demo staff."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fake_slack import FakeSlack, event_body, sign
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.config import Settings
from channels.slack.settings import SlackSettings
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.queries.users import get_user_by_email, link_slack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
SUPPORT_CHANNEL = "C0SUPPORT"
# Slack member ids linked to the demo staff by `linked` (Ines is a support agent).
AGENT = "UAGENT01"
REP = "UREP0001"
OTHER_REP = "UREP0002"
STRANGER = "USTRANGE"


def _closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fresh fake Slack Web API for this test."""
    with FakeSlack() as fake:
        yield fake


def make_slack_settings(fake: FakeSlack, **overrides: Any) -> SlackSettings:
    """Slack settings pointing at the fake, with quick test intervals."""
    values: dict[str, Any] = {
        "signing_secret": SECRET, "bot_token": TOKEN, "api_url": fake.api_url,
        "support_channel": SUPPORT_CHANNEL, "deliver_interval_s": 0.2, "backoff_base_s": 5.0,
        "request_timeout_s": 5,
    }  # fmt: skip
    return SlackSettings(**{**values, **overrides})


@pytest.fixture
def slack_settings(fake_slack: FakeSlack) -> SlackSettings:
    """Slack settings for the fake (both secrets set)."""
    return make_slack_settings(fake_slack)


@pytest.fixture
def linked(seeded_db_url: str) -> dict[str, int]:
    """Links the agent, Alice (rep) and Ben (rep) to Slack ids; returns their user ids."""
    people = {AGENT: DEMO_CREDENTIALS.agent_email, REP: DEMO_CREDENTIALS.rep_email,
              OTHER_REP: DEMO_CREDENTIALS.other_rep_email}  # fmt: skip
    ids = {}
    with session_scope(seeded_db_url) as session:
        for slack_id, email in people.items():
            user = get_user_by_email(session=session, email=email)
            assert user is not None
            link_slack(session=session, user_id=user.id, slack_user_id=slack_id)
            ids[slack_id] = user.id
    return ids


def app_settings(database_url: str, slack: SlackSettings) -> Settings:
    """API settings on `database_url` with Rasa down and Slack pointed at the fake."""
    down = _closed_port_url()
    return Settings(database_url=database_url, rasa_url=down, action_server_url=down,
                    rasa_timeout_s=2.0, probe_timeout_s=1.0, slack=slack)  # fmt: skip


@pytest.fixture
def slack_api(
    seeded_db_url: str, slack_settings: SlackSettings, linked: dict[str, int]
) -> Iterator[TestClient]:
    """The real API (lifespan running: deliverer included) with Slack configured."""
    with TestClient(create_app(app_settings(seeded_db_url, slack_settings))) as client:
        yield client


Sender = Callable[..., httpx.Response]


@pytest.fixture
def send_event(slack_api: TestClient) -> Sender:
    """Posts a correctly signed Events API request; `headers` adds or overrides headers."""

    def send(event: dict[str, Any], event_id: str, headers: dict[str, str] | None = None,
             client: TestClient | None = None) -> httpx.Response:  # fmt: skip
        body = event_body(event, event_id)
        all_headers = {"Content-Type": "application/json", **sign(SECRET, body),
                       **(headers or {})}  # fmt: skip
        return (client or slack_api).post("/slack/events", content=body, headers=all_headers)

    return send
