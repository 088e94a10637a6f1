"""Every route but the public ones refuses a request without valid credentials, and hostile
strings in REST parameters change nothing.

The routes are enumerated from the app itself (the OpenAPI schema and `app.routes`, which
also holds the routes kept out of the schema), so a route added later is checked too: it is
either in the public list below, with the reason it is public, or it must answer 401.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.routing import Mount, WebSocketRoute

from channels.app import create_app
from channels.config import Settings
from channels.slack.settings import SlackSettings
from crm_store.db import session_scope
from crm_store.models import Account, Order, Ticket

# (method, path) -> why anyone may call it.
PUBLIC = {
    ("POST", "/v1/chat/web"): "the website chat: anonymous visitors, rate limited",
    ("WS", "/v1/chat/web/ws"): "the website chat over a WebSocket",
    ("GET", "/v1/chat/web/pending"): "a visitor's unseen agent replies, keyed by their session id",
    ("GET", "/v1/health"): "load balancers and operators; no data",
    ("GET", "/"): "the customer chat page",
    ("GET", "/rep"): "the rep console page; it signs in with a token",
    ("GET", "/openapi.json"): "the API description",
    ("GET", "/docs"): "the API description",
    ("GET", "/docs/oauth2-redirect"): "FastAPI's docs helper",
    ("GET", "/redoc"): "the API description",
}
# Authenticated by Slack's request signature instead of a bearer token.
SIGNED_BY_SLACK = {("POST", "/slack/events"), ("POST", "/slack/commands")}
STATIC_MOUNTS = {"/static"}  # the pages' own JS/CSS
HOSTILE = [
    "' OR '1'='1", "1; DROP TABLE orders;--", "../../../../etc/passwd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "<script>alert(1)</script>", "a%00b", "9" * 400,
]  # fmt: skip


@pytest.fixture
def secured(settings: Settings) -> Iterator[TestClient]:
    """The app with Slack configured, so its routes are live and must check signatures."""
    slack = SlackSettings(signing_secret="test-signing-secret", bot_token="xoxb-test",
                          api_url=settings.rasa_url + "/")  # fmt: skip
    app = create_app(settings.model_copy(update={"slack": slack}))
    with TestClient(app) as client:
        yield client


def _operations(client: TestClient) -> set[tuple[str, str]]:
    """(method, path) of every route, routers included (FastAPI keeps those nested)."""
    ops: set[tuple[str, str]] = set()
    for context in iter_route_contexts(client.app.routes):
        route, path = context.route, context.path
        if isinstance(route, APIWebSocketRoute | WebSocketRoute):
            ops.add(("WS", path))
        elif isinstance(route, Mount):
            assert path in STATIC_MOUNTS, f"unexpected mount {path}"
        else:
            ops |= {(m, path) for m in (context.methods or set()) - {"HEAD", "OPTIONS"}}
    schema_ops = {(m.upper(), p) for p, item in client.app.openapi()["paths"].items()
                  for m in item}  # fmt: skip
    assert schema_ops <= ops
    return ops


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_private_route_requires_credentials(secured: TestClient) -> None:
    private = _operations(secured) - set(PUBLIC) - SIGNED_BY_SLACK
    assert private, "no private route found: the enumeration is broken"
    for method, path in sorted(private):
        assert method != "WS", f"a WebSocket route needs a place in PUBLIC or a test: {path}"
        for headers in ({}, {"Authorization": "Bearer not-a-real-token"},
                        {"Authorization": "Basic YWRtaW46YWRtaW4="}):  # fmt: skip
            response = secured.request(method, _concrete(path), headers=headers, json={})
            assert response.status_code == 401, (method, path, headers, response.text)


def test_slack_routes_require_a_valid_signature(secured: TestClient) -> None:
    for method, path in SIGNED_BY_SLACK:
        response = secured.request(method, path, content=b"token=x&command=/crm")
        assert response.status_code == 401, (path, response.text)
        forged = {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=" + "0" * 64}
        response = secured.request(method, path, content=b"{}", headers=forged)
        assert response.status_code == 401, (path, response.text)


def test_the_public_list_matches_the_app(secured: TestClient) -> None:
    """A public route that disappeared (or was renamed) must leave this list too."""
    assert set(PUBLIC) | SIGNED_BY_SLACK <= _operations(secured)


def _counts(url: str | None) -> tuple[int, int, int]:
    with session_scope(url) as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in
                     (Account, Order, Ticket))  # fmt: skip


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_parameters_change_nothing(
    client: TestClient, settings: Settings, rep_token: str, hostile: str
) -> None:
    auth = {"Authorization": f"Bearer {rep_token}"}
    before = _counts(settings.database_url)
    visible = {a["id"] for a in client.get("/v1/accounts", params={"limit": 100},
                                            headers=auth).json()["data"]}  # fmt: skip
    probes = [
        ("GET", "/v1/accounts", {"q": hostile}), ("GET", f"/v1/accounts/{hostile}", None),
        ("GET", f"/v1/orders/{hostile}", None), ("GET", f"/static/{hostile}", None),
    ]  # fmt: skip
    for method, path, params in probes:
        response = client.request(method, path, params=params, headers=auth)
        assert response.status_code < 500, (path, response.status_code, response.text)
        if params and response.status_code == 200:  # a search never widens the rep's scope
            assert {a["id"] for a in response.json()["data"]} <= visible
        assert "root:" not in response.text  # no file outside static/ was served
    assert _counts(settings.database_url) == before
