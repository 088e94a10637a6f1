"""Server-side faults: a database outage is a 503, a bug a logged 500 without PII."""

from __future__ import annotations

import logging
import socket

import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.errors import DATABASE_DETAIL, INTERNAL_DETAIL


@pytest.fixture
def down_db_client(settings_for):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/crm?connect_timeout=2"
    with TestClient(create_app(settings_for(url))) as client:
        yield client


def test_chat_with_database_down_is_503(down_db_client: TestClient) -> None:
    response = down_db_client.post("/v1/chat/web", json={"session_id": "s-12345678", "text": "hi"})
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_DETAIL}


def test_rest_with_database_down_is_503(down_db_client: TestClient) -> None:
    response = down_db_client.get("/v1/accounts", headers={"Authorization": "Bearer crm_x"})
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_DETAIL}


def test_websocket_with_database_down_gets_an_error_frame(down_db_client: TestClient) -> None:
    with down_db_client.websocket_connect("/v1/chat/web/ws") as ws:
        ws.send_json({"session_id": "s-12345678", "text": "hi"})
        assert ws.receive_json() == {"type": "error", "status": 503, "detail": DATABASE_DETAIL}


def test_health_with_database_down(down_db_client: TestClient) -> None:
    body = down_db_client.get("/v1/health").json()
    assert body["status"] == "degraded"
    assert body["components"]["database"]["status"] == "down"
    assert "postgres" not in body["components"]["database"]["detail"]


def test_unexpected_error_is_a_json_500_and_the_log_holds_no_message(
    settings_for, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'x.sqlite3'}"))

    @app.get("/boom")
    def boom() -> None:
        private = "jane@" + "acme.example"  # built at run time: not on the source line
        raise RuntimeError(f"customer {private} said something private")

    # raise_server_exceptions stays on: the exception must not escape the app at all.
    with TestClient(app) as client, caplog.at_level(logging.DEBUG):
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": INTERNAL_DETAIL}
    assert "RuntimeError" in caplog.text
    assert "jane@acme.example" not in caplog.text
