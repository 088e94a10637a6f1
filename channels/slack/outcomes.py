"""What a failed Web API call means for a notification: try again, or never re-send.

The rule (docs/slack.md, "Delivery guarantees"): a post is retried only when it certainly
did not reach Slack, namely Slack answered with an error (HTTP 5xx or 429, or `ok: false`), or the
connection was never made. When the request may have arrived (a timeout or a connection
dropped after sending), a retry could post twice, so the notification is marked failed with
the reason instead, for a person to check and requeue.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError

# Errors after which retrying cannot help (the message or the setup must change first).
PERMANENT_ERRORS = frozenset({
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "invalid_arguments", "invalid_blocks", "msg_too_long", "no_text", "missing_scope",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed attempt.

    Attributes:
        reason: short text for `last_error` (no message content in it).
        retry: True when a later attempt may succeed and cannot double-post.
        retry_after_s: Slack's own `Retry-After` (rate limits), else None.
    """

    reason: str
    retry: bool
    retry_after_s: float | None = None


def classify(exc: BaseException) -> Failure:
    """The meaning of an exception raised by `AsyncWebClient.chat_postMessage`."""
    if isinstance(exc, SlackApiError):
        return _api_failure(exc)
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return Failure(f"Slack unreachable: {type(exc).__name__}", retry=True)
    return Failure(
        f"outcome unknown ({type(exc).__name__} after the request may have been sent); "
        "not re-sent automatically, requeue after checking Slack",
        retry=False,
    )


def _api_failure(exc: SlackApiError) -> Failure:
    status = getattr(exc.response, "status_code", 0)
    data = getattr(exc.response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    if status == 429:
        return Failure("rate limited (HTTP 429)", retry=True, retry_after_s=_retry_after(exc))
    if status >= 500 or status == 0:
        return Failure(f"Slack error HTTP {status}", retry=True)
    reason = f"Slack refused the post: {error or f'HTTP {status}'}"
    return Failure(reason, retry=error not in PERMANENT_ERRORS)


def _retry_after(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
