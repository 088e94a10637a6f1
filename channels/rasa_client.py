"""The only code that talks to the Rasa server and the action server.

Rasa's REST webhook answers `200` with whatever it collected even when something failed
inside (see `RestInput.receive` in Rasa 3.6), and an action-server outage shows up as a
missing reply rather than an error. So an empty answer is checked against both servers'
health before it is believed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from channels.schemas import BotMessage, Button, ComponentHealth

logger = logging.getLogger(__name__)


class AssistantUnavailableError(Exception):
    """Rasa or the action server cannot answer this turn; the client should retry later."""


class RasaClient:
    """Async client for Rasa's REST webhook and the two servers' health endpoints.

    Args:
        rasa_url: Base URL of the Rasa server.
        action_server_url: Base URL of the action server.
        timeout_s: Time allowed for one turn.
        probe_timeout_s: Time allowed for one health probe.
        transport: Optional httpx transport (lets callers pin connection behaviour).
    """

    def __init__(
        self,
        *,
        rasa_url: str,
        action_server_url: str,
        timeout_s: float,
        probe_timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._rasa_url = rasa_url.rstrip("/")
        self._action_url = action_server_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self._probe_timeout = httpx.Timeout(probe_timeout_s)
        # trust_env=False: a proxy set for package downloads must not intercept loopback calls.
        self._http = httpx.AsyncClient(transport=transport, trust_env=False)

    async def aclose(self) -> None:
        """Close pooled connections (called when the app shuts down)."""
        await self._http.aclose()

    async def send_turn(
        self, *, sender: str, text: str, identity: dict[str, Any]
    ) -> list[BotMessage]:
        """Send one user message to Rasa and return the bot's replies.

        Args:
            sender: Rasa sender id, `<channel>-<conversation id>` (keys Rasa's tracker).
            text: The user's message.
            identity: The verified identity, sent as `metadata.crm` (see docs/spine.md).

        Returns:
            The replies in order; empty only when both servers are healthy and the bot
            chose to say nothing.

        Raises:
            AssistantUnavailableError: Rasa is unreachable, timed out, answered an error, or
                answered nothing while it or the action server is down.
        """
        body = {"sender": sender, "message": text, "metadata": {"crm": identity}}
        try:
            response = await self._http.post(
                f"{self._rasa_url}/webhooks/rest/webhook", json=body, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            logger.warning("Rasa turn failed: %s", type(exc).__name__)
            raise AssistantUnavailableError from exc
        if response.status_code != 200:
            logger.warning("Rasa turn answered HTTP %s", response.status_code)
            raise AssistantUnavailableError
        messages = parse_rasa_messages(response)
        if not messages:
            await self._ensure_servers_up()
        return messages

    async def _ensure_servers_up(self) -> None:
        """Raise when an empty reply is explained by a server being down."""
        rasa, actions = await asyncio.gather(self.probe_rasa(), self.probe_action_server())
        for name, health in (("Rasa", rasa), ("action server", actions)):
            if health.status != "ok":
                logger.warning("Empty reply and %s is down: %s", name, health.detail)
                raise AssistantUnavailableError

    async def probe_rasa(self) -> ComponentHealth:
        """Check that Rasa runs and has a model loaded.

        Rasa 3.6 answers `GET /status` with 200 when a model is loaded and 409 when none is;
        with an auth token configured it answers 401/403, and then `GET /` (always open)
        at least shows the server is running.

        Returns:
            `ok`, or `down` with a short reason.
        """
        status = await self._probe(f"{self._rasa_url}/status")
        if isinstance(status, str):
            return ComponentHealth(status="down", detail=status)
        if status == 200:
            return ComponentHealth(status="ok")
        if status == 409:
            return ComponentHealth(status="down", detail="no model loaded")
        if status in (401, 403):
            root = await self._probe(f"{self._rasa_url}/")
            if root == 200:
                return ComponentHealth(status="ok", detail="running; model status needs a token")
            return ComponentHealth(status="down", detail=_reason(root))
        return ComponentHealth(status="down", detail=_reason(status))

    async def probe_action_server(self) -> ComponentHealth:
        """Check the action server's `GET /health` (rasa-sdk answers `{"status": "ok"}`).

        Returns:
            `ok`, or `down` with a short reason.
        """
        status = await self._probe(f"{self._action_url}/health")
        if status == 200:
            return ComponentHealth(status="ok")
        return ComponentHealth(status="down", detail=_reason(status))

    async def _probe(self, url: str) -> int | str:
        """GET `url` quickly: the HTTP status, or a reason string when there was none."""
        try:
            response = await self._http.get(url, timeout=self._probe_timeout)
        except httpx.TimeoutException:
            return "timed out"
        except httpx.HTTPError:
            return "unreachable"
        return response.status_code


def _reason(status: int | str) -> str:
    """Human-readable reason for a failed probe."""
    return status if isinstance(status, str) else f"answered HTTP {status}"


def parse_rasa_messages(response: httpx.Response) -> list[BotMessage]:
    """Translate Rasa's reply list into our messages, keeping text and buttons.

    Rasa may also send images or custom payloads; channels here show text only, so a
    message with neither text nor buttons is dropped rather than shown empty.

    Args:
        response: Rasa's webhook response.

    Returns:
        The messages in Rasa's order.

    Raises:
        AssistantUnavailableError: The body is not the list Rasa's REST channel sends.
    """
    try:
        payload = response.json()
    except ValueError as exc:
        raise AssistantUnavailableError from exc
    if not isinstance(payload, list):
        raise AssistantUnavailableError
    messages = []
    for item in payload:
        message = _to_message(item) if isinstance(item, dict) else None
        if message is not None:
            messages.append(message)
    return messages


def _to_message(item: dict[str, Any]) -> BotMessage | None:
    """One Rasa message to ours, or `None` when it carries nothing we can show."""
    text = item.get("text")
    text = text if isinstance(text, str) else ""
    buttons = [
        Button(title=b["title"], payload=b["payload"])
        for b in item.get("buttons") or []
        if isinstance(b, dict)
        and isinstance(b.get("title"), str)
        and isinstance(b.get("payload"), str)
    ]
    if not text and not buttons:
        return None
    return BotMessage(text=text, buttons=buttons or None)
