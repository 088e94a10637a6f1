"""Rate limits on the public chat: per session id and per client address.

Each limit is a token bucket (implemented as GCRA, one number per key): `limit` messages
in a burst, refilled evenly over `window_s`. A turn is admitted only when every bucket it
touches has room, and then all of them are charged at once, so a refused turn costs nothing.

Where the buckets live:
- Redis when `CRM_REDIS_URL` is set: one Lua script checks and charges every key atomically,
  with Redis's own clock (API replicas may disagree on the time), and keys expire once full.
- Otherwise this process's memory: right for a single-process demo; with several workers
  each enforces its own share.

When Redis is unreachable the limiter falls back to memory for `redis_retry_s` seconds
rather than failing the chat (the documented degrade), logs it once, and `/v1/health`
reports `redis: down`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from channels.config import Settings
from channels.errors import TurnRejectedError
from channels.schemas import ComponentHealth

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One limit applied to one key: `limit` turns per `window_s`, bursting up to `limit`."""

    scope: str  # "session" or "address": named in the refusal
    key: str
    limit: int
    window_s: float

    @property
    def interval_ms(self) -> int:
        """Milliseconds of refill per turn."""
        return max(1, math.ceil(self.window_s * 1000 / self.limit))

    @property
    def window_ms(self) -> int:
        """The bucket's capacity, in milliseconds of refill."""
        return self.interval_ms * self.limit


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a turn may run; when not, which limit refused it and for how long."""

    allowed: bool
    retry_after_s: int = 0
    scope: str | None = None


class RateLimitedError(TurnRejectedError):
    """A turn refused by a rate limit: 429, with the seconds to wait."""

    def __init__(self, decision: Decision) -> None:
        detail = (
            f"too many messages from this {decision.scope}; try again in {decision.retry_after_s} s"
        )
        super().__init__(429, detail)
        self.retry_after_s = decision.retry_after_s
        self.scope = decision.scope


class MemoryBackend:
    """Buckets in this process's memory (a dict of theoretical arrival times, in whole ms).

    Whole milliseconds, as in the Redis script: a bucket that is exactly full must admit,
    and with float milliseconds `(now + interval) - window - now` came out a hair above 0
    for about 1 % of clock values (an hour or so after boot), refusing a first message.
    """

    _PRUNE_EVERY = 1024

    def __init__(self) -> None:
        self._tats: dict[str, int] = {}
        self._lock = threading.Lock()
        self._calls = 0

    async def hit(self, buckets: list[Bucket]) -> Decision:
        """Admit and charge, or refuse with the longest wait among the full buckets."""
        now = time.monotonic_ns() // 1_000_000
        with self._lock:
            self._calls += 1
            if self._calls % self._PRUNE_EVERY == 0:
                self._prune(now)
            new_tats, refusal = [], Decision(True)
            for bucket in buckets:
                tat = max(self._tats.get(bucket.key, now), now) + bucket.interval_ms
                wait_ms = tat - bucket.window_ms - now
                if wait_ms > 0 and wait_ms / 1000 > refusal.retry_after_s:
                    refusal = Decision(False, math.ceil(wait_ms / 1000), bucket.scope)
                new_tats.append((bucket.key, tat))
            if refusal.allowed:
                self._tats.update(new_tats)
            return refusal

    def _prune(self, now: int) -> None:
        """Forget buckets that have refilled completely (bounded memory under key churn)."""
        for key in [k for k, tat in self._tats.items() if tat <= now]:
            del self._tats[key]

    def __len__(self) -> int:
        return len(self._tats)


# GCRA over several keys; ARGV holds (interval_ms, window_ms) per key. Returns
# {1} when admitted (every key charged), else {0, wait_ms, index of the refusing key}.
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tats, worst, which = {}, 0, 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tats[i] = tat + interval
  local wait = tats[i] - window - now
  if wait > worst then worst, which = wait, i end
end
if worst > 0 then return {0, worst, which} end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', tats[i] - now + 1000)
end
return {1}
"""


class RedisBackend:
    """Buckets in Redis, shared by every API process; errors propagate to the caller."""

    def __init__(self, url: str, timeout_s: float) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries and short timeouts: a down Redis must cost a turn milliseconds, not
        # seconds, before the limiter falls back to memory.
        self.client = Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
        self._script = self.client.register_script(_LUA)

    async def hit(self, buckets: list[Bucket]) -> Decision:
        """Admit and charge atomically, or refuse with the wait of the refusing bucket."""
        args: list[int] = []
        for bucket in buckets:
            args += [bucket.interval_ms, bucket.window_ms]
        result = await self._script(keys=[b.key for b in buckets], args=args)
        if int(result[0]) == 1:
            return Decision(True)
        return Decision(False, math.ceil(int(result[1]) / 1000), buckets[int(result[2]) - 1].scope)

    async def ping(self) -> None:
        """Raise when Redis does not answer."""
        await self.client.ping()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


class ChatLimiter:
    """The public chat's limits, in Redis when configured, else (or while it is down) memory.

    Args:
        settings: Limits, window, Redis URL and key prefix.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.memory = MemoryBackend()
        self.redis = (
            RedisBackend(settings.redis_url, settings.redis_timeout_s)
            if settings.redis_url
            else None
        )
        self._redis_down_until = 0.0

    def buckets(self, *, session_id: str, address: str | None) -> list[Bucket]:
        """The buckets one turn charges; a limit of 0 is switched off."""
        s = self.settings
        prefix, window = s.redis_key_prefix, s.chat_limit_window_s
        found = []
        if s.chat_session_limit > 0:
            found.append(Bucket("session", f"{prefix}s:{session_id}", s.chat_session_limit, window))
        if s.chat_address_limit > 0 and address:
            found.append(Bucket("address", f"{prefix}a:{address}", s.chat_address_limit, window))
        return found

    def poll_buckets(self, *, session_id: str, address: str | None) -> list[Bucket]:
        """The buckets one poll for unseen lines charges (apart from the chat's turns)."""
        s = self.settings
        prefix, window, limit = s.redis_key_prefix, s.chat_limit_window_s, s.chat_poll_limit
        if limit <= 0:
            return []
        found = [Bucket("session", f"{prefix}ps:{session_id}", limit, window)]
        if address:
            found.append(Bucket("address", f"{prefix}pa:{address}", limit * 10, window))
        return found

    async def enforce_poll(self, *, session_id: str, address: str | None) -> None:
        """Admit one poll of `/v1/chat/web/pending`, or raise `RateLimitedError` (429)."""
        decision = await self._hit(self.poll_buckets(session_id=session_id, address=address))
        if not decision.allowed:
            raise RateLimitedError(decision)

    async def check(self, *, session_id: str, address: str | None) -> Decision:
        """Admit (and charge) one turn, or say which limit refuses it and for how long."""
        return await self._hit(self.buckets(session_id=session_id, address=address))

    async def _hit(self, buckets: list[Bucket]) -> Decision:
        """Charge the buckets in Redis when it is up, else in this process's memory."""
        if not buckets:
            return Decision(True)
        if self.redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                return await self.redis.hit(buckets)
            except Exception as exc:  # noqa: BLE001 - any Redis failure means "use memory"
                self._redis_down_until = time.monotonic() + self.settings.redis_retry_s
                logger.warning(
                    "Redis unavailable for rate limits (%s); using in-process limits for %.0f s",
                    type(exc).__name__,
                    self.settings.redis_retry_s,
                )
        return await self.memory.hit(buckets)

    async def enforce(self, *, session_id: str, address: str | None) -> None:
        """`check`, raising `RateLimitedError` (429) when the turn must wait."""
        decision = await self.check(session_id=session_id, address=address)
        if not decision.allowed:
            raise RateLimitedError(decision)

    async def probe(self) -> ComponentHealth | None:
        """Redis's health for `/v1/health`; None when no Redis is configured."""
        if self.redis is None:
            return None
        try:
            await asyncio.wait_for(self.redis.ping(), self.settings.probe_timeout_s)
        except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
            detail = f"unreachable ({type(exc).__name__}); rate limits use per-process memory"
            return ComponentHealth(status="down", detail=detail)
        return ComponentHealth(status="ok")

    async def aclose(self) -> None:
        """Release the Redis connections, if any."""
        if self.redis is not None:
            await self.redis.aclose()


def client_address(conn: HTTPConnection) -> str | None:
    """The client's address: the peer, or the trusted proxy header's last hop when configured.

    Why the last entry: a proxy appends the address it saw to `X-Forwarded-For`, so earlier
    entries are whatever the client chose to send; only the one our proxy wrote is trusted.
    """
    settings: Settings = conn.app.state.settings
    header = settings.trusted_proxy_header
    if header:
        value = conn.headers.get(header, "")
        hops = [hop.strip() for hop in value.split(",") if hop.strip()]
        if hops:
            return hops[-1][:100]
    return conn.client.host if conn.client else None


ClientAddress = Annotated[str | None, Depends(client_address)]


def get_limiter(conn: HTTPConnection) -> ChatLimiter:
    """The app's chat limiter."""
    return conn.app.state.limiter


ChatLimiterDep = Annotated[ChatLimiter, Depends(get_limiter)]


async def _rate_limited_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitedError)
    return JSONResponse(
        status_code=429,
        content={"detail": exc.detail, "retry_after": exc.retry_after_s, "limit": exc.scope},
        headers={"Retry-After": str(exc.retry_after_s)},
    )


def install_rate_limits(app: FastAPI) -> None:
    """Answer `RateLimitedError` with 429, `Retry-After` and a JSON reason.

    The limiter itself is created by the app's lifespan (`app.state.limiter`), since a Redis
    client belongs to the event loop that runs the app.
    """
    app.add_exception_handler(RateLimitedError, _rate_limited_handler)
