"""Slack settings, read from `CRM_SLACK_*` environment variables.

The Slack routes run only when both secrets are set: without the signing secret no request
can be verified, and without the bot token nothing can be answered. `missing()` names what
is absent so the routes (503) and the start-up log can say it.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"


class SlackSettings(BaseSettings):
    """Configuration of the Slack adapter and the notification deliverer.

    Attributes:
        signing_secret: "Signing Secret" of the Slack app (Basic Information); every request
            is checked against it.
        bot_token: the app's bot token (`xoxb-...`).
        api_url: Web API base URL; tests point it at a fake Slack on loopback.
        support_channel: channel id or `#name` where handoff threads are posted.
        max_skew_s: oldest request accepted, in seconds (Slack's own guidance: 5 minutes).
        deliver_interval_s: how often the deliverer looks for due notifications.
        deliver_batch: notifications claimed per pass.
        max_attempts: attempts before a notification is marked failed.
        backoff_base_s / backoff_max_s: wait after the first failure, doubled each time, capped.
        claim_lease_s: how long a claim lasts; a post older than this belonged to a
            deliverer that stopped mid-post (see docs/slack.md, "Delivery guarantees").
        request_timeout_s: time allowed for one Web API call.
    """

    model_config = SettingsConfigDict(env_prefix="CRM_SLACK_", extra="ignore")

    signing_secret: SecretStr | None = None
    bot_token: SecretStr | None = None
    api_url: str = SLACK_API_URL
    support_channel: str | None = None
    max_skew_s: int = Field(default=300, ge=1)
    deliver_interval_s: float = Field(default=2.0, gt=0)
    deliver_batch: int = Field(default=20, ge=1, le=200)
    max_attempts: int = Field(default=10, ge=1)
    backoff_base_s: float = Field(default=5.0, gt=0)
    backoff_max_s: float = Field(default=1800.0, gt=0)
    claim_lease_s: float = Field(default=300.0, gt=0)
    request_timeout_s: int = Field(default=10, ge=1)

    def missing(self) -> list[str]:
        """Names of the required variables that are unset or blank (empty when ready)."""
        names = []
        if not _value(self.signing_secret):
            names.append("CRM_SLACK_SIGNING_SECRET")
        if not _value(self.bot_token):
            names.append("CRM_SLACK_BOT_TOKEN")
        return names

    @property
    def enabled(self) -> bool:
        """True when both secrets are set."""
        return not self.missing()


def _value(secret: SecretStr | None) -> str:
    return secret.get_secret_value().strip() if secret is not None else ""
