"""Fixtures for the action tests: the real domain and a real seeded database.

Actions are run the rasa-sdk way (`await action.run(dispatcher, tracker, domain)`), with no
HTTP and no Rasa import. `db_url` (SQLite and PostgreSQL) and `seeded_session` come from
`tests/conftest.py`; `crm_db` points the actions' `session_scope()` at that database.
"""

from __future__ import annotations

from typing import Any

import pytest
from bot_support import BOT_DIR, load_yaml
from sqlalchemy.orm import Session


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """bot/domain.yml as the action server receives it (a plain dict)."""
    return load_yaml(BOT_DIR / "domain.yml")


@pytest.fixture
def crm_db(db_url: str, seeded_session: Session, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make the seeded database visible to the actions through `CRM_DATABASE_URL`."""
    seeded_session.commit()
    monkeypatch.setenv("CRM_DATABASE_URL", db_url)
    return db_url
