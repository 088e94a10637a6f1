"""The only code that talks to the Rasa server and the action server.

Rasa's REST webhook answers `200` with whatever it collected even when something failed
inside (see `RestInput.receive` in Rasa 3.6), and an action-server outage shows up as a
missing reply rather than an error. So an empty answer is checked against both servers'
health before it is believed.

With several Rasa replicas (they share a SQL tracker store and a Redis lock store, so any of
them can take any turn), each conversation has a home replica (a stable hash of its sender
key), so conversations spread over the replicas. Why not round robin per turn: Rasa 3.6's
RedisLockStore issues tickets by read-modify-write without a transaction, so two replicas
taking turns of one conversation at the same instant can both get the lock, and the SQL
tracker store then keeps only one of the two turns (seen in tests/integration/
test_cluster.py). Within one replica the lock holds. A replica that refuses the connection is
skipped for a few seconds and the turn goes to the next one, where the shared tracker store
continues the conversation: nothing reached the dead replica, so nothing runs twice. A turn
that fails after it was sent (the replica died while answering) is not retried, since its
actions may already have run; the caller answers 503.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

from channels.schemas import BotMessage, Button, ComponentHealth

logger = logging.getLogger(__name__)

OUTCOME_KEY = "crm_outcome"
# fallback: the bot did not understand; abstain: the knowledge base did not know.
BOT_OUTCOMES = frozenset({"fallback", "abstain"})


class AssistantUnavailableError(Exception):
    """Rasa or the action server cannot answer this turn; the client should retry later."""


@dataclass(frozen=True, slots=True)
class TurnReply:
    """The bot's messages and what NLU understood (None from a Rasa without our patch)."""

    messages: list[BotMessage]
    intent: str | None = None
    confidence: float | None = None


# How long a replica that refused a connection is passed over before it is tried again.
REPLICA_BACKOFF_S = 5.0


@dataclass
class _Replica:
    url: str
    skip_until: float = 0.0


class RasaClient:
    """Async client for Rasa's REST webhook and the two servers' health endpoints.

    Args:
        rasa_url: Base URL of the Rasa server, or several separated by commas (replicas).
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
        urls = [u.strip().rstrip("/") for u in rasa_url.split(",") if u.strip()]
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self._replicas = [_Replica(url) for url in urls]
        self._action_url = action_server_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self._probe_timeout = httpx.Timeout(probe_timeout_s)
        # trust_env=False: a proxy set for package downloads must not intercept loopback calls.
        self._http = httpx.AsyncClient(transport=transport, trust_env=False)

    async def aclose(self) -> None:
        """Close pooled connections (called when the app shuts down)."""
        await self._http.aclose()

    async def ask(self, *, sender: str, text: str, identity: dict[str, Any]) -> TurnReply:
        """Send one user message to Rasa and return the bot's replies and the parsed intent.

        Args:
            sender: Rasa sender id, `<channel>-<conversation id>` (keys Rasa's tracker).
            text: The user's message.
            identity: The verified identity, sent as `metadata.crm` (see docs/spine.md).

        Returns:
            The replies in order (empty only when both servers are healthy and the bot
            chose to say nothing), with the intent and confidence Rasa reported.

        Raises:
            AssistantUnavailableError: Rasa is unreachable, timed out, answered an error, or
                answered nothing while it or the action server is down.
        """
        body = {"sender": sender, "message": text, "metadata": {"crm": identity}}
        response = await self._post_to_a_replica(body)
        if response.status_code != 200:
            logger.warning("Rasa turn answered HTTP %s", response.status_code)
            raise AssistantUnavailableError
        messages = parse_rasa_messages(response)
        if not messages:
            await self._ensure_servers_up()
        intent, confidence = parse_nlu_record(response)
        return TurnReply(messages, intent, confidence)

    @property
    def replica_urls(self) -> list[str]:
        """The Rasa base URLs, in configuration order."""
        return [replica.url for replica in self._replicas]

    def _replica_order(self, sender: str) -> list[_Replica]:
        """Replicas to try for this conversation's turn: its home first, refused ones last."""
        start = zlib.crc32(sender.encode()) % len(self._replicas)
        ring = self._replicas[start:] + self._replicas[:start]
        now = time.monotonic()
        return [r for r in ring if r.skip_until <= now] + [r for r in ring if r.skip_until > now]

    async def _post_to_a_replica(self, body: dict[str, Any]) -> httpx.Response:
        """POST the turn to one replica, moving on only while nothing has been sent."""
        for replica in self._replica_order(body["sender"]):
            try:
                response = await self._http.post(
                    f"{replica.url}/webhooks/rest/webhook", json=body, timeout=self._timeout
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                logger.warning("Rasa replica %s refused the turn: %s", replica.url,
                               type(exc).__name__)  # fmt: skip
                replica.skip_until = time.monotonic() + REPLICA_BACKOFF_S
                continue
            except httpx.HTTPError as exc:
                logger.warning("Rasa turn failed on %s: %s", replica.url, type(exc).__name__)
                raise AssistantUnavailableError from exc
            replica.skip_until = 0.0
            return response
        raise AssistantUnavailableError

    async def _ensure_servers_up(self) -> None:
        """Raise when an empty reply is explained by a server being down."""
        rasa, actions = await asyncio.gather(self.probe_rasa(), self.probe_action_server())
        for name, health in (("Rasa", rasa), ("action server", actions)):
            if health.status != "ok":
                logger.warning("Empty reply and %s is down: %s", name, health.detail)
                raise AssistantUnavailableError

    async def probe_rasa(self) -> ComponentHealth:
        """Rasa as a service: `ok` while at least one replica can answer.

        Returns:
            `ok` (with how many replicas are up when there are several), or `down` with the
            reason of the first replica.
        """
        return summarize_replicas(await self.probe_rasa_replicas())

    async def probe_rasa_replicas(self) -> dict[str, ComponentHealth]:
        """The health of each replica, keyed by its base URL (probed concurrently)."""
        urls = self.replica_urls
        results = await asyncio.gather(*(self._probe_one_rasa(url) for url in urls))
        return dict(zip(urls, results, strict=True))

    async def _probe_one_rasa(self, rasa_url: str) -> ComponentHealth:
        """Check that one Rasa server runs and has a model loaded.

        Rasa 3.6 answers `GET /status` with 200 when a model is loaded and 409 when none is;
        with an auth token configured it answers 401/403, and then `GET /` (always open)
        at least shows the server is running.

        Returns:
            `ok`, or `down` with a short reason.
        """
        status = await self._probe(f"{rasa_url}/status")
        if isinstance(status, str):
            return ComponentHealth(status="down", detail=status)
        if status == 200:
            return ComponentHealth(status="ok")
        if status == 409:
            return ComponentHealth(status="down", detail="no model loaded")
        if status in (401, 403):
            root = await self._probe(f"{rasa_url}/")
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


def summarize_replicas(replicas: dict[str, ComponentHealth]) -> ComponentHealth:
    """One health for the Rasa service: `ok` while any replica is up, else the first reason."""
    up = [h for h in replicas.values() if h.status == "ok"]
    if not up:
        return next(iter(replicas.values()))
    if len(replicas) == 1:
        return up[0]
    return ComponentHealth(status="ok", detail=f"{len(up)} of {len(replicas)} replicas up")


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
    messages: list[BotMessage] = []
    for item in payload:
        message = _to_message(item) if isinstance(item, dict) else None
        if message is not None:
            messages.append(message)
        elif messages and isinstance(item, dict):
            _mark_outcome(messages[-1], item.get("custom"))
    return messages


def _mark_outcome(message: BotMessage, custom: Any) -> None:
    """Carry a response's `custom.crm_outcome` mark over to the message it came with.

    Rasa sends a response's `custom` part as a message of its own right after its text
    (`OutputChannel.send_response`); bot/domain.yml marks fallback and "I don't know"
    replies this way so the stored transcript says which turns the bot could not answer.
    """
    outcome = custom.get(OUTCOME_KEY) if isinstance(custom, dict) else None
    if outcome in BOT_OUTCOMES:
        message.outcome = outcome


def parse_nlu_record(response: httpx.Response) -> tuple[str | None, float | None]:
    """The `crm_nlu` entry that bot/rasa_patches.py adds to a REST reply, if any."""
    try:
        payload = response.json()
    except ValueError:
        return None, None
    for item in payload if isinstance(payload, list) else []:
        custom = item.get("custom") if isinstance(item, dict) else None
        record = custom.get("crm_nlu") if isinstance(custom, dict) else None
        if isinstance(record, dict) and isinstance(record.get("intent"), str):
            confidence = record.get("confidence")
            number = float(confidence) if isinstance(confidence, int | float) else None
            return record["intent"][:100], number
    return None, None


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
