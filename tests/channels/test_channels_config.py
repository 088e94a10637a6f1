"""Settings come from `CRM_*` variables, with defaults that match docs/spine.md."""

from __future__ import annotations

import pytest

from channels.config import Settings


def test_defaults_match_the_spine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRM_RASA_URL", "CRM_ACTION_SERVER_URL", "CRM_MAX_TEXT_CHARS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.action_server_url == "http://127.0.0.1:5055"
    assert settings.max_text_chars == 2000


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_RASA_URL", "http://10.0.0.5:5005")
    monkeypatch.setenv("CRM_DATABASE_URL", "sqlite:////tmp/x.sqlite3")
    monkeypatch.setenv("CRM_MAX_TEXT_CHARS", "500")
    settings = Settings()
    assert settings.rasa_url == "http://10.0.0.5:5005"
    assert settings.database_url == "sqlite:////tmp/x.sqlite3"
    assert settings.max_text_chars == 500


def test_nonsense_limits_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_MAX_TEXT_CHARS", "0")
    with pytest.raises(ValueError, match="max_text_chars"):
        Settings()
