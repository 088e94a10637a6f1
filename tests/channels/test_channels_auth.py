"""Bearer tokens: missing, unknown and revoked are 401; a customer is not staff."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from channels.config import Settings
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.queries.users import get_user_by_email, issue_token, revoke_token

PROTECTED = [
    ("get", "/v1/accounts", None),
    ("get", "/v1/accounts/1", None),
    ("get", f"/v1/orders/{DEMO_CREDENTIALS.customer_order_number}", None),
    ("post", "/v1/chat/rep", {"session_id": "s-12345678", "text": "hi"}),
]


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
def test_every_protected_route_needs_a_token(
    client: TestClient, method: str, path: str, body: dict | None
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Missing bearer token")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Authorization": "Bearer "}, "Missing bearer token"),
        ({"Authorization": f"Basic {DEMO_CREDENTIALS.rep_token}"}, "Missing bearer token"),
        ({"Authorization": DEMO_CREDENTIALS.rep_token}, "Missing bearer token"),
        ({"Authorization": "Bearer not-a-token"}, "Invalid or revoked token."),
        ({"Authorization": f"Bearer {DEMO_CREDENTIALS.rep_token}x"}, "Invalid or revoked token."),
        ({"Authorization": "Bearer " + "a" * 5000}, "Invalid or revoked token."),
    ],
)
def test_malformed_or_unknown_tokens_are_401(
    client: TestClient, headers: dict[str, str], reason: str
) -> None:
    response = client.get("/v1/accounts", headers=headers)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_401(client: TestClient, bearer, settings: Settings) -> None:
    with session_scope(settings.database_url) as session:
        user = get_user_by_email(session=session, email=DEMO_CREDENTIALS.rep_email)
        assert user is not None
        token = issue_token(session=session, user_id=user.id)
    assert client.get("/v1/accounts", headers=bearer(token)).status_code == 200
    with session_scope(settings.database_url) as session:
        assert revoke_token(session=session, token=token)
    response = client.get("/v1/accounts", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked token."


def test_customer_token_cannot_use_the_rep_chat(client: TestClient, bearer) -> None:
    response = client.post(
        "/v1/chat/rep",
        json={"session_id": "s-12345678", "text": "show all accounts"},
        headers=bearer(DEMO_CREDENTIALS.customer_token),
    )
    assert response.status_code == 403
    assert "for staff" in response.json()["detail"]


@pytest.mark.parametrize(
    "token",
    [
        DEMO_CREDENTIALS.rep_token,
        DEMO_CREDENTIALS.manager_token,
        DEMO_CREDENTIALS.agent_token,
        DEMO_CREDENTIALS.admin_token,
    ],
)
def test_staff_tokens_reach_the_rep_chat(client: TestClient, bearer, token: str) -> None:
    response = client.post(
        "/v1/chat/rep", json={"session_id": "s-12345678", "text": "hi"}, headers=bearer(token)
    )
    assert response.status_code == 503  # authenticated; then Rasa is down in these tests


def test_me_names_the_tokens_user(client: TestClient, bearer, rep_user_id: int) -> None:
    response = client.get("/v1/me", headers=bearer(DEMO_CREDENTIALS.rep_token))
    assert response.status_code == 200
    body = response.json()
    assert (body["user_id"], body["email"], body["role"]) == (
        rep_user_id,
        DEMO_CREDENTIALS.rep_email,
        "rep",
    )
    assert isinstance(body["team_id"], int)
    assert client.get("/v1/me").status_code == 401
