"""Several Rasa replicas: turns spread round robin, a refused connection fails over, and a
turn that died after it was sent is not sent twice. The replicas are real HTTP servers on
loopback that answer like Rasa's REST channel and count what they receive."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from channels.health import check_health
from channels.rasa_client import AssistantUnavailableError, RasaClient
from channels.schemas import BotMessage
from tests.channels.conftest import make_settings


class FakeReplica:
    """A Rasa stand-in: answers `[{"text": name}]`, or drops the connection when `crash`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.turns: list[dict[str, object]] = []
        self.crash = False
        replica = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                replica.turns.append(body)
                if replica.crash:  # the process died while answering
                    self.connection.close()
                    return
                self._send(200, [{"recipient_id": body["sender"], "text": replica.name}])

            def do_GET(self) -> None:  # noqa: N802
                self._send(200, {"version": "3.6.21"})

            def _send(self, status: int, payload: object) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replicas() -> Iterator[tuple[FakeReplica, FakeReplica]]:
    pair = (FakeReplica("a"), FakeReplica("b"))
    yield pair
    for replica in pair:
        replica.stop()


def _client(*urls: str, action_url: str) -> RasaClient:
    return RasaClient(rasa_url=",".join(urls), action_server_url=action_url,
                      timeout_s=5.0, probe_timeout_s=1.0)  # fmt: skip


async def _say(client: RasaClient, text: str = "hi", sender: str = "web-x") -> list[BotMessage]:
    reply = await client.ask(sender=sender, text=text, identity={"role": "customer"})
    return reply.messages


async def test_conversations_spread_and_each_keeps_its_replica(
    replicas: tuple[FakeReplica, FakeReplica],
) -> None:
    a, b = replicas
    client = _client(a.url, b.url, action_url=a.url)
    try:
        homes = {}
        for n in range(40):
            sender = f"web-{n}"
            answers = {(await _say(client, sender=sender))[0].text for _ in range(3)}
            assert len(answers) == 1, (sender, answers)  # every turn on the same replica
            homes[sender] = answers.pop()
    finally:
        await client.aclose()
    assert set(homes.values()) == {"a", "b"}
    assert 10 <= len(a.turns) // 3 <= 30  # spread, not all on one


async def test_a_refused_connection_fails_over_and_health_is_degraded(
    replicas: tuple[FakeReplica, FakeReplica], closed_port_url: str, tmp_path: object
) -> None:
    a, _ = replicas
    client = _client(closed_port_url, a.url, action_url=a.url)
    try:
        answers = [(await _say(client))[0].text for _ in range(3)]
        settings = make_settings(f"sqlite:///{tmp_path}/h.sqlite3", closed_port_url)
        health = await check_health(settings, client)
    finally:
        await client.aclose()
    assert answers == ["a", "a", "a"] and len(a.turns) == 3
    assert health.components["rasa"].status == "ok"
    assert health.components["rasa"].detail == "1 of 2 replicas up"
    assert health.components["rasa_replica_1"].status == "down"
    assert health.components["rasa_replica_2"].status == "ok"
    assert health.status == "degraded"


async def test_a_turn_lost_mid_answer_is_not_sent_again(
    replicas: tuple[FakeReplica, FakeReplica],
) -> None:
    a, b = replicas
    a.crash = True
    client = _client(a.url, b.url, action_url=b.url)
    try:
        with pytest.raises(AssistantUnavailableError):
            await _say(client, "create a lead")
    finally:
        await client.aclose()
    assert [t["message"] for t in a.turns] == ["create a lead"]
    assert b.turns == []  # its actions may have run on a: no second run on b


async def test_all_replicas_down_is_unavailable(closed_port_url: str) -> None:
    client = _client(closed_port_url, closed_port_url, action_url=closed_port_url)
    try:
        with pytest.raises(AssistantUnavailableError):
            await _say(client)
        health = await client.probe_rasa()
    finally:
        await client.aclose()
    assert (health.status, health.detail) == ("down", "unreachable")
