"""Fixtures for the channels tests: an app per database, with Rasa on a closed port.

The database fixtures (`db_url` for SQLite and PostgreSQL, `seeded_db_url`) come from
`tests/conftest.py`. Rasa and the action server are deliberately unreachable here; the
conversations with the real servers live in `tests/integration/`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from channels.app import create_app
from channels.config import Settings
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.models import Conversation
from crm_store.queries.conversations import list_messages
from crm_store.queries.users import get_user_by_email


def _closed_port() -> int:
    """A loopback port nobody listens on (bound once to pick it, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def closed_port_url() -> str:
    """URL of a server that is down: connections are refused at once."""
    return f"http://127.0.0.1:{_closed_port()}"


@pytest.fixture
def settings_for(closed_port_url: str) -> Callable[[str], Settings]:
    """Builds settings for any database URL, with Rasa and the action server down."""
    return lambda database_url: make_settings(database_url, closed_port_url)


def make_settings(database_url: str, down_url: str) -> Settings:
    """Settings for a test app whose Rasa and action server are both down."""
    return Settings(
        database_url=database_url,
        rasa_url=down_url,
        action_server_url=down_url,
        rasa_timeout_s=2.0,
        probe_timeout_s=1.0,
        max_text_chars=2000,
    )


@pytest.fixture
def settings(seeded_db_url: str, closed_port_url: str) -> Settings:
    """Settings for this test's seeded database (SQLite or PostgreSQL, a fresh copy)."""
    return make_settings(seeded_db_url, closed_port_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client for the app on the seeded database (lifespan started)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def bare_client(tmp_path: Path, closed_port_url: str) -> Iterator[TestClient]:
    """A client that needs no data (pages, static files)."""
    settings = make_settings(f"sqlite:///{tmp_path / 'unused.sqlite3'}", closed_port_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


Headers = dict[str, str]


@pytest.fixture
def bearer() -> Callable[[str], Headers]:
    """Builds the `Authorization: Bearer` header for a token."""
    return lambda token: {"Authorization": f"Bearer {token}"}


Transcript = list[tuple[str, str]] | None


@pytest.fixture
def transcript(settings: Settings) -> Callable[[str, str], Transcript]:
    """Reads a stored conversation back: (sender, text) pairs oldest first, or None."""

    def read(channel: str, external_id: str) -> Transcript:
        with session_scope(settings.database_url) as session:
            conversation = session.scalars(
                select(Conversation).where(
                    Conversation.channel == channel, Conversation.external_id == external_id
                )
            ).first()
            if conversation is None:
                return None
            messages = list_messages(session=session, conversation_id=conversation.id)
            return [(str(m.sender), m.text) for m in messages]

    return read


@pytest.fixture
def rep_token() -> str:
    """Alice, a rep in the Enterprise team, owner of Acme Corp and Northwind Traders."""
    return DEMO_CREDENTIALS.rep_token


@pytest.fixture
def rep_user_id(settings: Settings) -> int:
    """Alice's user id in the seeded database."""
    with session_scope(settings.database_url) as session:
        user = get_user_by_email(session=session, email=DEMO_CREDENTIALS.rep_email)
        assert user is not None
        return user.id
