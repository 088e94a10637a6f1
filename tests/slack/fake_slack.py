"""A stand-in for Slack's Web API: a real HTTP server on loopback that records every call.

Point the SDK at it (`CRM_SLACK_API_URL` / `SlackSettings.api_url = fake.api_url`) and it
answers `auth.test`, `chat.postMessage` (with a fresh `ts` per message) and any other method
with `{"ok": true}`. Failures are scripted per method (`fail_next`), and `response_url`
posts from slash commands land under `fake.response_url(...)`. Also here: the signing and
payload helpers the tests use to play Slack's side of the Events API.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode

BOT_USER_ID = "UBOT0001"
TEAM_ID = "T0001"


@dataclass(frozen=True)
class Call:
    """One request the fake received: the API method (or `response:<id>`), its arguments."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    delay_s: float = 0.0


@dataclass
class FakeSlack:
    """The server's state; use as a context manager (`with FakeSlack() as fake:`)."""

    calls: list[Call] = field(default_factory=list)
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The Web API base URL to give the SDK."""
        return f"{self.base_url}/api/"

    def response_url(self, key: str) -> str:
        """A slash command's `response_url`, recorded as method `response:<key>`."""
        return f"{self.base_url}/response/{key}"

    def fail_next(
        self, method: str, times: int = 1, status: int = 500,
        body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        """Answer the next `times` calls of `method` with this status and body."""
        failure = _Failure(status, body or {"ok": False, "error": "fatal_error"}, headers or {})
        with self._lock:
            self._failures.setdefault(method, []).extend([failure] * times)

    def slow_next(self, method: str, delay_s: float) -> None:
        """Answer the next call of `method` successfully, but only after `delay_s` seconds
        (the post is recorded at once: it reached Slack; the client may time out waiting)."""
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(200, {}, {}, delay_s))

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posts(self) -> list[dict[str, Any]]:
        """The arguments of every successful `chat.postMessage`."""
        return [c.params for c in self.calls_to("chat.postMessage") if "ts" in c.params]

    def wait_for(
        self, check: Callable[[FakeSlack], Any], timeout: float = 10.0, what: str = "it"
    ) -> Any:
        """Poll until `check(self)` is truthy (work that runs after Slack's ack); its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check(self)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; calls: {self.calls}")

    def __enter__(self) -> FakeSlack:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, method: str, params: dict[str, Any], headers: dict[str, str]
                ) -> tuple[int, dict[str, Any], dict[str, str]]:  # fmt: skip
        with self._lock:
            pending = self._failures.get(method)
            failure = pending.pop(0) if pending else None
            if failure is not None and not failure.delay_s:
                self.calls.append(Call(method, params, headers))
                return failure.status, failure.body, failure.headers
            body = self._success(method, params)
            # A successful post carries its ts, so tests can tell it from a failed attempt.
            recorded = {**params, "ts": body["ts"]} if "ts" in body else params
            self.calls.append(Call(method, recorded, headers))
        if failure is not None:
            time.sleep(failure.delay_s)
        return 200, body, {}

    def _success(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack/", "team": "Fake", "team_id": TEAM_ID,
                    "user": "crm", "user_id": BOT_USER_ID, "bot_id": "B0001"}  # fmt: skip
        if method == "chat.postMessage":
            ts = f"{1_700_000_000 + next(self._ts)}.000100"
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"text": params.get("text"), "ts": ts}}  # fmt: skip
        return {"ok": True}


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                params = json.loads(raw or "{}")
            else:
                params = dict(parse_qsl(raw))
            path = self.path.split("?", 1)[0]
            method = (path.removeprefix("/api/") if path.startswith("/api/")
                      else "response:" + path.removeprefix("/response/"))  # fmt: skip
            status, body, headers = fake._answer(method, params, dict(self.headers))
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, *args: object) -> None:
            """Quiet: the calls are recorded instead."""

    return Handler


# --- Slack's side of the Events API ---------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The `X-Slack-Signature` / `X-Slack-Request-Timestamp` headers Slack would send."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_body(event: dict[str, Any], event_id: str) -> bytes:
    """An Events API `event_callback` envelope around `event`, as JSON bytes."""
    envelope = {
        "token": "legacy-unused", "team_id": TEAM_ID, "api_app_id": "A0001",
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "event": event,
    }  # fmt: skip
    return json.dumps(envelope).encode()


def command_body(text: str, user_id: str, response_url: str, channel_id: str = "C0SUPPORT"
                 ) -> bytes:  # fmt: skip
    """A `/crm` slash command, form-encoded as Slack sends it."""
    return urlencode({
        "token": "legacy-unused", "team_id": TEAM_ID, "channel_id": channel_id,
        "channel_name": "support", "user_id": user_id, "user_name": "agent",
        "command": "/crm", "text": text, "api_app_id": "A0001",
        "response_url": response_url, "trigger_id": "1.2.3",
    }).encode()  # fmt: skip


def interaction_body(payload: dict[str, Any]) -> bytes:
    """An interactivity request (`payload=<json>`), form-encoded as Slack sends it."""
    return urlencode({"payload": json.dumps(payload)}).encode()
