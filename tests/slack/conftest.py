"""Slack fixtures: a fake Slack Web API on loopback, the real API on the seeded database
(SQLite and PostgreSQL), and Slack users linked to the demo staff."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fake_slack import FakeSlack, event_body, sign
from fastapi.testclient import TestClient
from slack_support import (
    AGENT,
    OTHER_REP,
    REP,
    SECRET,
    Sender,
    app_settings,
    make_slack_settings,
)

from channels.app import create_app
from channels.slack.settings import SlackSettings
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.queries.users import get_user_by_email, link_slack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fresh fake Slack Web API for this test."""
    with FakeSlack() as fake:
        yield fake


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


@pytest.fixture
def slack_api(
    seeded_db_url: str, slack_settings: SlackSettings, linked: dict[str, int]
) -> Iterator[TestClient]:
    """The real API (lifespan running: deliverer included) with Slack configured."""
    with TestClient(create_app(app_settings(seeded_db_url, slack_settings))) as client:
        yield client


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
