"""Slack request verification: HMAC signature over the raw body, and a replay window.

Checked here, before Bolt sees the request, because Bolt's own check logs the whole body
when it fails, and in a CRM that body is customer data. The reason returned is safe to log.
"""

from __future__ import annotations

import hmac
import time

from slack_sdk.signature import SignatureVerifier


class SlackVerificationError(Exception):
    """The request is not provably from Slack; the message says why (no payload in it)."""


def verify_request(
    *,
    signing_secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    max_skew_s: int = 300,
    now: float | None = None,
) -> None:
    """Check `X-Slack-Signature` and `X-Slack-Request-Timestamp` for one request.

    Args:
        signing_secret: the app's signing secret.
        body: the raw request body, byte for byte as received.
        timestamp: the `X-Slack-Request-Timestamp` header (Unix seconds).
        signature: the `X-Slack-Signature` header (`v0=<hex>`).
        max_skew_s: oldest (or furthest in the future) timestamp accepted; a captured
            request replayed later fails here even with a valid signature.
        now: current Unix time (tests pass their own).

    Raises:
        SlackVerificationError: a header is missing or malformed, the timestamp is outside
            the window, or the signature does not match.
    """
    if not timestamp or not signature:
        raise SlackVerificationError("missing X-Slack-Signature or X-Slack-Request-Timestamp")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SlackVerificationError("malformed X-Slack-Request-Timestamp") from None
    skew = abs((time.time() if now is None else now) - sent_at)
    if skew > max_skew_s:
        raise SlackVerificationError(f"stale request: timestamp is {int(skew)} s off")
    expected = SignatureVerifier(signing_secret).generate_signature(timestamp=timestamp, body=body)
    if expected is None or not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SlackVerificationError("signature mismatch")
