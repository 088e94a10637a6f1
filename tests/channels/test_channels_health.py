"""Health with Rasa and the action server down, and with the database down."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient


def test_health_reports_each_component(client: TestClient) -> None:
    started = time.monotonic()
    response = client.get("/v1/health")
    assert time.monotonic() - started < 5  # probes run at once, with short timeouts
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "components": {
            "api": {"status": "ok", "detail": None},
            "rasa": {"status": "down", "detail": "unreachable"},
            "action_server": {"status": "down", "detail": "unreachable"},
            "database": {"status": "ok", "detail": None},
        },
    }


def test_strict_health_is_503_when_degraded(client: TestClient) -> None:
    response = client.get("/v1/health", params={"strict": "true"})
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
