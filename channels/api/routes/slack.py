"""Slack's requests: Events API and interactivity (`/slack/events`), slash commands
(`/slack/commands`). Every request is verified before Bolt sees it; see docs/slack.md."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.requests import HTTPConnection

from channels.api.deps import SettingsDep
from channels.slack.runtime import SlackRuntime
from channels.slack.verify import SlackVerificationError, verify_request

log = logging.getLogger(__name__)

router = APIRouter(prefix="/slack", tags=["slack"])

_ERRORS = {
    401: {"description": "Bad or missing signature, or a timestamp older than 5 minutes"},
    503: {"description": "Slack is not configured (the reason names the missing variables)"},
}


def get_slack(conn: HTTPConnection, settings: SettingsDep) -> SlackRuntime:
    """The Slack runtime; 503 with the missing variables when Slack is not configured."""
    runtime: SlackRuntime | None = getattr(conn.app.state, "slack", None)
    if runtime is None:
        missing = " and ".join(settings.slack.missing()) or "the Slack settings"
        raise HTTPException(status_code=503, detail=f"Slack is not configured: set {missing}.")
    return runtime


SlackDep = Annotated[SlackRuntime, Depends(get_slack)]


async def verified_slack_request(request: Request, slack: SlackDep) -> Request:
    """The request, once its signature and timestamp prove it is from Slack and recent.

    Raises:
        HTTPException: 401 otherwise; logged with the reason, never with the payload.
    """
    secret = slack.settings.signing_secret
    assert secret is not None
    try:
        verify_request(
            signing_secret=secret.get_secret_value(),
            body=await request.body(),
            timestamp=request.headers.get("x-slack-request-timestamp"),
            signature=request.headers.get("x-slack-signature"),
            max_skew_s=slack.settings.max_skew_s,
        )
    except SlackVerificationError as exc:
        client = request.client.host if request.client else "?"
        log.warning("rejected Slack request to %s from %s: %s", request.url.path, client, exc)
        raise HTTPException(status_code=401, detail=f"Invalid Slack request: {exc}.") from None
    return request


VerifiedSlack = Annotated[Request, Depends(verified_slack_request)]


@router.post("/events", responses=_ERRORS)
async def slack_events(request: VerifiedSlack, slack: SlackDep) -> Response:
    """Events API callbacks and interactivity payloads (buttons) from Slack."""
    return await slack.handler.handle(request)


@router.post("/commands", responses=_ERRORS)
async def slack_commands(request: VerifiedSlack, slack: SlackDep) -> Response:
    """The `/crm` slash command."""
    return await slack.handler.handle(request)
