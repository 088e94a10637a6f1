"""Settings for the API process, read from `CRM_*` environment variables.

Why a settings object rather than module constants: tests build an app per configuration
(`create_app(Settings(rasa_url=...))`), so nothing here may be read at import time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from channels.slack.settings import SlackSettings


class Settings(BaseSettings):
    """Configuration of the channels API.

    Attributes:
        rasa_url: Base URL of the Rasa server (private address; only this API talks to it).
        action_server_url: Base URL of the rasa-sdk action server, probed for health and to
            tell an action-server outage apart from a bot that simply said nothing.
        database_url: SQLAlchemy URL of the CRM store; `None` means crm_store's default
            (`CRM_DATABASE_URL` or the SQLite file under `var/`).
        max_text_chars: Longest chat message accepted, in characters.
        max_body_bytes: Largest HTTP request body accepted; a maximal chat message is about
            8 KB of JSON even with every character escaped.
        rasa_timeout_s: Time allowed for one Rasa turn (NLU, policies and actions). Measured
            p95 is about 1 s with 10 concurrent sessions, so 30 s only trips on a stuck server.
        probe_timeout_s: Time allowed for each health probe; health must answer quickly even
            when a dependency hangs.
        chat_session_limit: Public chat turns per session id per window (a burst of this many,
            refilled evenly); 0 switches the limit off. A person types a few a minute.
        chat_address_limit: Public chat turns per client address per window; 0 switches it
            off (load tests from one machine). Higher than the session limit: offices and
            mobile carriers put many visitors behind one address.
        chat_limit_window_s: The window both chat limits refill over, in seconds.
        chat_poll_limit: `GET /v1/chat/web/pending` polls per session id per window (the
            page polls every few seconds without a socket); the same many times ten per
            address. Buckets of their own, so polling never spends the chat's turns.
        trusted_proxy_header: Header whose last entry is the client address (e.g.
            `X-Forwarded-For`); set it only behind a proxy that writes it, else clients
            could pick their own address. Unset: the TCP peer's address.
        redis_url: Redis for rate-limit buckets shared by all API processes; unset means
            per-process memory (single-process demo).
        redis_key_prefix: Prefix of every Redis key the API writes.
        redis_timeout_s: Connect and read timeout for Redis; a down Redis must not slow chat.
        redis_retry_s: After a Redis failure, how long to use memory before trying again.
        metrics_token: Bearer token Prometheus sends to `GET /metrics`; admins' API tokens work
            too. Unset: only admins may read the metrics.
        log_format: `json` for one JSON object per log line (request id, no PII), as the
            cluster and containers use; `text` for people at a terminal.
        slack: The Slack adapter's settings (`CRM_SLACK_*`, channels/slack/settings.py).
        push_sweep_s: How often each API process looks in the store for handoff lines
            waiting for a socket open in it (an agent reply relayed by another API process);
            0 switches the sweep off (one process only). One indexed query per interval.
    """

    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    rasa_url: str = "http://127.0.0.1:5005"
    action_server_url: str = "http://127.0.0.1:5055"
    database_url: str | None = None
    max_text_chars: int = Field(default=2000, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    rasa_timeout_s: float = Field(default=30.0, gt=0)
    probe_timeout_s: float = Field(default=1.5, gt=0)
    chat_session_limit: int = Field(default=20, ge=0)
    chat_address_limit: int = Field(default=120, ge=0)
    chat_limit_window_s: float = Field(default=60.0, gt=0)
    chat_poll_limit: int = Field(default=60, ge=0)
    trusted_proxy_header: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "crm:rl:"
    redis_timeout_s: float = Field(default=0.25, gt=0)
    redis_retry_s: float = Field(default=5.0, ge=0)
    metrics_token: SecretStr | None = None
    log_format: Literal["text", "json"] = "text"
    slack: SlackSettings = Field(default_factory=SlackSettings)
    push_sweep_s: float = Field(default=1.0, ge=0)
