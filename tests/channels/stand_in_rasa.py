"""A real HTTP server on loopback standing in for Rasa's REST webhook, recording each turn.

It answers every message with `echo: <text>`, and `/human_handoff` with the line the real
bot's action sends, so channel tests can tell whether (and what) the API asked the bot.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANDOFF_LINE = "A person from our team will join this chat shortly."


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        return

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._reply(200, {"status": "ok"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.turns.append(body)
        text = body.get("message", "")
        answer = HANDOFF_LINE if text == "/human_handoff" else f"echo: {text}"
        self._reply(200, [{"recipient_id": body.get("sender"), "text": answer}])


class _Server(ThreadingHTTPServer):
    turns: list[dict[str, Any]]


@contextmanager
def stand_in_rasa() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Start the server; yields its base URL and the list of turns it received."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.turns = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.turns
    finally:
        server.shutdown()
        server.server_close()
