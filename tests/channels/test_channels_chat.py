"""Chat turns with Rasa down: a clean 503, and the user's words still in the transcript."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from channels.errors import UNAVAILABLE_DETAIL


def _sid() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def test_web_turn_with_rasa_down_is_503_and_stored(client: TestClient, transcript) -> None:
    sid = _sid()
    response = client.post(
        "/v1/chat/web", json={"session_id": sid, "text": "  where is my order?  "}
    )
    assert response.status_code == 503
    assert response.json() == {"detail": UNAVAILABLE_DETAIL}
    assert transcript("web", sid) == [("user", "where is my order?")]


def test_each_turn_is_appended_to_the_same_conversation(client: TestClient, transcript) -> None:
    sid = _sid()
    for text in ("first", "second"):
        assert (
            client.post("/v1/chat/web", json={"session_id": sid, "text": text}).status_code == 503
        )
    assert transcript("web", sid) == [("user", "first"), ("user", "second")]


def test_rep_turn_needs_a_token(client: TestClient) -> None:
    response = client.post("/v1/chat/rep", json={"session_id": _sid(), "text": "hi"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_rep_turn_is_stored_under_the_rep(
    client: TestClient, transcript, rep_token: str, rep_user_id: int
) -> None:
    sid = _sid()
    response = client.post(
        "/v1/chat/rep",
        json={"session_id": sid, "text": "show my open deals"},
        headers={"Authorization": f"Bearer {rep_token}"},
    )
    assert response.status_code == 503
    assert response.json() == {"detail": UNAVAILABLE_DETAIL}
    assert transcript("rep", f"user-{rep_user_id}:{sid}") == [("user", "show my open deals")]
    assert transcript("rep", sid) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"session_id": "s-12345678", "text": ""}, "text: must not be empty"),
        ({"session_id": "s-12345678", "text": " \n\t "}, "text: must not be empty"),
        ({"session_id": "s-12345678"}, "text: Field required"),
        ({"text": "hi"}, "session_id: Field required"),
        ({"session_id": "s-12345678", "text": 42}, "text: Input should be a valid string"),
        ({"session_id": 12345678, "text": "hi"}, "session_id: Input should be a valid string"),
        ({"session_id": "short", "text": "hi"}, "session_id: must be 8-64 characters"),
        ({"session_id": "x" * 65, "text": "hi"}, "session_id: must be 8-64 characters"),
        ({"session_id": "../../etc/passwd", "text": "hi"}, "session_id: must be 8-64"),
        (["session_id", "text"], "the body must be a JSON object"),
    ],
)
def test_bad_turns_get_422_with_a_reason(
    client: TestClient, body: object, reason: str, transcript
) -> None:
    response = client.post("/v1/chat/web", json=body)
    assert response.status_code == 422
    assert reason in response.json()["detail"]
    assert "input" not in json.dumps(response.json()["errors"])
    assert transcript("web", "s-12345678") is None


def test_text_over_the_limit_is_422_and_not_stored(client: TestClient, transcript) -> None:
    sid = _sid()
    response = client.post("/v1/chat/web", json={"session_id": sid, "text": "x" * 2001})
    assert response.status_code == 422
    assert response.json()["detail"] == "text is too long: at most 2000 characters"
    assert transcript("web", sid) is None


def test_text_at_the_limit_is_accepted(client: TestClient, transcript) -> None:
    sid = _sid()
    response = client.post("/v1/chat/web", json={"session_id": sid, "text": "x" * 2000})
    assert response.status_code == 503  # accepted, stored, then Rasa is down
    assert transcript("web", sid) == [("user", "x" * 2000)]


@pytest.mark.parametrize(
    "raw", [b'{"session_id": "s-12345678", "text": ', b"not json", b"{'a': 1}"]
)
def test_malformed_json_is_400(client: TestClient, raw: bytes) -> None:
    response = client.post(
        "/v1/chat/web", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "malformed JSON body"


def test_missing_body_is_422(client: TestClient) -> None:
    response = client.post("/v1/chat/web")
    assert response.status_code == 422
    assert "JSON object with session_id and text" in response.json()["detail"]


def test_websocket_answers_bad_frames_and_stays_open(client: TestClient, transcript) -> None:
    sid = _sid()
    with client.websocket_connect("/v1/chat/web/ws") as ws:
        ws.send_text("{not json")
        assert ws.receive_json() == {
            "type": "error",
            "status": 400,
            "detail": "malformed JSON body",
        }
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_json()["detail"] == "frames must be JSON text, not binary"
        ws.send_json({"session_id": sid, "text": "   "})
        frame = ws.receive_json()
        assert (frame["status"], frame["detail"]) == (
            422,
            "text: must not be empty or only whitespace",
        )
        ws.send_json({"session_id": sid, "text": "x" * 2001})
        assert ws.receive_json()["status"] == 422
        ws.send_text("x" * 50_000)
        assert ws.receive_json() == {"type": "error", "status": 413, "detail": "frame too large"}
        ws.send_json({"session_id": sid, "text": "hello"})
        assert ws.receive_json() == {"type": "error", "status": 503, "detail": UNAVAILABLE_DETAIL}
    assert transcript("web", sid) == [("user", "hello")]


def test_unknown_route_and_method_are_clean_4xx(client: TestClient) -> None:
    assert client.get("/v1/nope").status_code == 404
    response = client.get("/v1/chat/web")
    assert response.status_code == 405
    assert response.json()["detail"] == "Method Not Allowed"


def test_oversized_body_is_413_before_parsing(client: TestClient, transcript) -> None:
    body = json.dumps({"session_id": "s-12345678", "text": "x" * 100_000})
    response = client.post(
        "/v1/chat/web", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "request body too large: at most 65536 bytes"
    assert transcript("web", "s-12345678") is None


def test_oversized_chunked_body_is_413(client: TestClient) -> None:
    def chunks():
        yield b'{"session_id": "s-12345678", "text": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    response = client.post(
        "/v1/chat/web", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
