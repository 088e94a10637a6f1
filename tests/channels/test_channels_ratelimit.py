"""Rate limits on the public chat: memory and the real Redis (127.0.0.1:6379), and Redis down.

Rasa is down in these tests, so an admitted turn answers 503 (stored, then refused by the
assistant) and a limited one 429: the status tells which gate stopped it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.config import Settings
from channels.ratelimit import Bucket, MemoryBackend, RedisBackend

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_reachable(), reason="Redis NOT REACHABLE at 6379")


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    value = f"crm-test:{uuid.uuid4().hex[:12]}:"
    yield value
    if _redis_reachable():
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{value}*"))
        if keys:
            client.delete(*keys)


def _client(settings: Settings, **changes: object) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes)))


def _turn(client: TestClient, session_id: str, **kw: object):  # noqa: ANN202 - httpx.Response
    return client.post("/v1/chat/web", json={"session_id": session_id, "text": "hi"}, **kw)


def _sid() -> str:
    return f"rl-{uuid.uuid4().hex[:12]}"


def _assert_limited(response, scope: str) -> int:  # noqa: ANN001 - httpx.Response
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    body = response.json()
    assert body["retry_after"] == retry_after and body["limit"] == scope
    assert f"too many messages from this {scope}" in body["detail"]
    return retry_after


@pytest.fixture(params=["memory", pytest.param("redis", marks=needs_redis)])
def backend_changes(request: pytest.FixtureRequest, prefix: str) -> dict[str, object]:
    """Settings changes that select the limiter's backend."""
    if request.param == "memory":
        return {"redis_url": None}
    return {"redis_url": REDIS_URL, "redis_key_prefix": prefix}


def test_session_limit_answers_429_with_retry_after(
    settings: Settings, backend_changes: dict[str, object]
) -> None:
    changes = {**backend_changes, "chat_session_limit": 3, "chat_address_limit": 100}
    with _client(settings, **changes) as client:
        sid = _sid()
        assert [_turn(client, sid).status_code for _ in range(3)] == [503, 503, 503]
        retry_after = _assert_limited(_turn(client, sid), "session")
        assert 1 <= retry_after <= 20  # one turn refills in 60 s / 3 = 20 s
        assert _turn(client, _sid()).status_code == 503  # another session is not affected


def test_address_limit_spans_sessions(
    settings: Settings, backend_changes: dict[str, object]
) -> None:
    changes = {**backend_changes, "chat_session_limit": 100, "chat_address_limit": 2}
    with _client(settings, **changes) as client:
        assert _turn(client, _sid()).status_code == 503
        assert _turn(client, _sid()).status_code == 503
        _assert_limited(_turn(client, _sid()), "address")


def test_a_refused_turn_is_not_stored_and_costs_nothing(settings: Settings, transcript) -> None:
    with _client(settings, chat_session_limit=1, chat_address_limit=2) as client:
        sid = _sid()
        assert _turn(client, sid).status_code == 503
        _assert_limited(_turn(client, sid), "session")
        _assert_limited(_turn(client, sid), "session")
        # the refused turns did not use the address bucket: a new session still gets in
        assert _turn(client, _sid()).status_code == 503
    assert transcript("web", sid) == [("user", "hi")]


def test_proxy_header_is_trusted_only_when_configured(settings: Settings) -> None:
    forwarded = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(3)]
    with _client(settings, chat_session_limit=100, chat_address_limit=1) as client:
        assert _turn(client, _sid(), headers=forwarded[0]).status_code == 503
        _assert_limited(_turn(client, _sid(), headers=forwarded[1]), "address")
    changes = {"chat_session_limit": 100, "chat_address_limit": 1}
    with _client(settings, trusted_proxy_header="X-Forwarded-For", **changes) as client:
        assert _turn(client, _sid(), headers=forwarded[0]).status_code == 503
        assert _turn(client, _sid(), headers=forwarded[1]).status_code == 503
        # only the last hop counts: a client cannot spoof its way out with a forged first hop
        spoofed = {"X-Forwarded-For": "198.51.100.7, 203.0.113.0"}
        _assert_limited(_turn(client, _sid(), headers=spoofed), "address")


def test_websocket_frames_are_limited_and_the_socket_stays_open(
    settings: Settings, backend_changes: dict[str, object]
) -> None:
    changes = {**backend_changes, "chat_session_limit": 2, "chat_address_limit": 100}
    with _client(settings, **changes) as client, client.websocket_connect("/v1/chat/web/ws") as ws:
        sid = _sid()
        for _ in range(2):
            ws.send_json({"session_id": sid, "text": "hi"})
            assert ws.receive_json()["status"] == 503
        ws.send_json({"session_id": sid, "text": "hi"})
        frame = ws.receive_json()
        assert frame["type"] == "error" and frame["status"] == 429
        assert 1 <= frame["retry_after"] <= 30 and "session" in frame["detail"]
        ws.send_json({"session_id": _sid(), "text": "hi"})  # still open, other session admitted
        assert ws.receive_json()["status"] == 503


def test_limits_of_zero_are_off(settings: Settings) -> None:
    with _client(settings, chat_session_limit=0, chat_address_limit=0) as client:
        sid = _sid()
        assert {_turn(client, sid).status_code for _ in range(30)} == {503}


def test_rep_chat_is_not_limited_by_the_public_limits(settings: Settings, bearer, rep_token):
    with _client(settings, chat_session_limit=1, chat_address_limit=1) as client:
        sid = _sid()
        for _ in range(3):
            response = client.post(
                "/v1/chat/rep", json={"session_id": sid, "text": "hi"}, headers=bearer(rep_token)
            )
            assert response.status_code == 503


# --- Redis health and the degrade ----------------------------------------------------------


@needs_redis
def test_health_reports_redis_when_configured(settings: Settings, prefix: str) -> None:
    with _client(settings, redis_url=REDIS_URL, redis_key_prefix=prefix) as client:
        assert client.get("/v1/health").json()["components"]["redis"] == {
            "status": "ok",
            "detail": None,
        }
    with _client(settings, redis_url=None) as client:
        assert "redis" not in client.get("/v1/health").json()["components"]


def test_redis_down_degrades_to_memory_without_500(settings: Settings, closed_port_url) -> None:
    down = closed_port_url.replace("http://", "redis://")
    changes = {"redis_url": down, "chat_session_limit": 2, "chat_address_limit": 100}
    with _client(settings, **changes) as client:
        sid = _sid()
        started = time.monotonic()
        assert [_turn(client, sid).status_code for _ in range(2)] == [503, 503]
        _assert_limited(_turn(client, sid), "session")  # still enforced, from memory
        assert time.monotonic() - started < 5
        health = client.get("/v1/health").json()
        assert health["status"] == "degraded"
        assert health["components"]["redis"]["status"] == "down"
        assert "per-process memory" in health["components"]["redis"]["detail"]
        assert client.get("/v1/health", params={"strict": "true"}).status_code == 503


# --- the backends directly ---------------------------------------------------------------


def _buckets(prefix: str, limit: int, window_s: float) -> list[Bucket]:
    return [Bucket("session", f"{prefix}s:x", limit, window_s)]


async def test_memory_bucket_refills_over_the_window() -> None:
    backend = MemoryBackend()
    buckets = _buckets("m:", 2, 0.4)
    assert [(await backend.hit(buckets)).allowed for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.25)  # one turn refills every 0.2 s
    assert (await backend.hit(buckets)).allowed
    assert not (await backend.hit(buckets)).allowed


async def test_memory_bucket_admits_when_exactly_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """At this clock value (69 min after boot) float milliseconds left `(now + 60000) - 60000 -
    now` a hair above 0, so a one-turn bucket refused its first turn (seen in a full run)."""
    seconds = 4160.227592629704
    monkeypatch.setattr(time, "monotonic", lambda: seconds)
    monkeypatch.setattr(time, "monotonic_ns", lambda: int(seconds * 1e9))
    backend = MemoryBackend()
    assert (await backend.hit(_buckets("m:", 1, 60))).allowed
    assert not (await backend.hit(_buckets("m:", 1, 60))).allowed


@needs_redis
async def test_redis_bucket_refills_and_keys_expire(prefix: str) -> None:
    backend = RedisBackend(REDIS_URL, timeout_s=1.0)
    try:
        buckets = _buckets(prefix, 2, 0.4)
        assert [(await backend.hit(buckets)).allowed for _ in range(3)] == [True, True, False]
        ttl_ms = await backend.client.pttl(buckets[0].key)
        assert 0 < ttl_ms <= 1500  # the key goes once the bucket is full again (+1 s slack)
        await asyncio.sleep(0.25)
        assert (await backend.hit(buckets)).allowed
    finally:
        await backend.aclose()


@needs_redis
async def test_redis_admits_exactly_the_limit_under_concurrency(prefix: str) -> None:
    backend = RedisBackend(REDIS_URL, timeout_s=2.0)
    try:
        buckets = [
            Bucket("session", f"{prefix}s:c", 10, 60),
            Bucket("address", f"{prefix}a:c", 50, 60),
        ]
        decisions = await asyncio.gather(*(backend.hit(buckets) for _ in range(40)))
        assert sum(d.allowed for d in decisions) == 10
        refused = [d for d in decisions if not d.allowed]
        assert {d.scope for d in refused} == {"session"} and min(
            d.retry_after_s for d in refused
        ) >= 1
    finally:
        await backend.aclose()


def test_polling_for_unseen_lines_is_limited_apart_from_the_chat(
    settings: Settings, backend_changes: dict[str, object]
) -> None:
    changes = {**backend_changes, "chat_poll_limit": 2, "chat_session_limit": 1}
    with _client(settings, **changes) as client:
        sid = _sid()
        polls = [client.get("/v1/chat/web/pending", params={"session_id": sid}) for _ in range(3)]
        assert [p.status_code for p in polls[:2]] == [200, 200]
        _assert_limited(polls[2], "session")
        assert _turn(client, sid).status_code != 429  # the chat's own budget is untouched
        other = client.get("/v1/chat/web/pending", params={"session_id": _sid()})
        assert other.status_code == 200


def test_every_limit_setting_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "privacy.md").read_text()
    names = [n for n in Settings.model_fields if n.startswith(("chat_", "redis_", "trusted_"))]
    assert len(names) == 9
    for name in names:
        assert f"`CRM_{name.upper()}`" in doc, name


OwnRedis = tuple[str, Callable[[], None], Callable[[], None]]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of this test's own on a free port: (url, stop, start)."""
    import shutil
    import socket
    import subprocess

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(tmp_path)]  # fmt: skip
    server: list[subprocess.Popen] = []

    def start() -> None:
        server.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop() -> None:
        process = server.pop()
        process.terminate()
        process.wait(timeout=10)

    start()
    yield f"redis://127.0.0.1:{port}/0", stop, start
    while server:
        stop()


def test_redis_outage_degrades_then_recovers(settings: Settings, own_redis: OwnRedis) -> None:
    url, stop, start = own_redis
    changes = {"redis_url": url, "redis_retry_s": 0.3, "chat_session_limit": 50}
    direct = redis.Redis.from_url(url)
    with _client(settings, **changes) as client:
        assert _turn(client, _sid()).status_code == 503
        assert direct.keys("crm:rl:*")  # the buckets live in Redis
        stop()
        assert _turn(client, _sid()).status_code == 503  # admitted from memory, no 500
        assert client.get("/v1/health").json()["components"]["redis"]["status"] == "down"
        start()
        time.sleep(0.4)  # past redis_retry_s: the limiter asks Redis again
        sid = _sid()
        assert _turn(client, sid).status_code == 503
        assert direct.exists(f"crm:rl:s:{sid}")
        assert client.get("/v1/health").json()["components"]["redis"]["status"] == "ok"
