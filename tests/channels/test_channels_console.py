"""The console's REST routes: account cards and the dashboard, scoped like every other read.

The prediction models are pointed at an empty registry here, so cards show the store's facts
and say why churn is missing; `tests/predict/test_card.py` covers cards with a real model.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.console_schemas import (
    AccountCardPublic,
    ConversationFiguresPublic,
    DashboardPublic,
    RepFiguresPublic,
)
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS as DEMO
from crm_store.queries.deals import list_open_deals
from tests.crm_store.store_helpers import account_id, scope_of


@pytest.fixture(autouse=True)
def _no_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_MODELS_DIR", str(tmp_path / "no-models"))


@pytest.fixture
def acme_id(settings) -> int:
    with session_scope(settings.database_url) as session:
        return account_id(session, DEMO.rep_account_name)


def test_card_and_dashboard_need_a_staff_token(client: TestClient, bearer, acme_id: int) -> None:
    for path in (f"/v1/accounts/{acme_id}/card", "/v1/dashboard"):
        missing = client.get(path)
        assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
        assert client.get(path, headers=bearer("crm_nope")).status_code == 401
        assert client.get(path, headers=bearer(DEMO.customer_token)).status_code == 403


def test_rep_reads_the_card_of_own_account(
    client: TestClient, bearer, acme_id: int, settings
) -> None:
    response = client.get(f"/v1/accounts/{acme_id}/card", headers=bearer(DEMO.rep_token))
    assert response.status_code == 200
    card = response.json()
    assert (card["id"], card["name"], card["owner_name"]) == (acme_id, "Acme Corp", "Alice Moreno")
    with session_scope(settings.database_url) as session:
        deals = list_open_deals(session=session, scope=scope_of(session, "rep"), account_id=acme_id)
        expected = [(d.name, d.stage.value, d.amount) for d in deals]
    assert [(d["name"], d["stage"], Decimal(d["amount"])) for d in card["deals"]] == expected
    assert card["open_deal_count"] == len(expected) > 0
    assert sum(Decimal(d["amount"]) for d in card["deals"]) == Decimal(card["open_deal_amount"])
    assert len(card["tickets"]) == card["open_ticket_count"]
    # No model in the registry: no churn, a plain next action, and a note saying why.
    assert card["churn"] is None and card["next_action"]["action"]
    assert any("churn" in note for note in card["notes"])


def test_card_scoping_other_rep_404_manager_and_agent_see_it(
    client: TestClient, bearer, acme_id: int
) -> None:
    path = f"/v1/accounts/{acme_id}/card"
    hidden = client.get(path, headers=bearer(DEMO.other_rep_token))
    missing = client.get("/v1/accounts/987654321/card", headers=bearer(DEMO.other_rep_token))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"detail": "Account not found."}
    assert client.get(path, headers=bearer(DEMO.other_manager_token)).status_code == 404
    manager = client.get(path, headers=bearer(DEMO.manager_token))
    assert manager.status_code == 200 and manager.json()["name"] == "Acme Corp"
    agent = client.get(path, headers=bearer(DEMO.agent_token)).json()
    assert agent["deals"] == [] and agent["open_deal_count"] == 0  # agents see no pipeline
    assert client.get("/v1/accounts/0/card", headers=bearer(DEMO.rep_token)).status_code == 422


def _board(client: TestClient, bearer, token: str, **params: object) -> dict:
    response = client.get("/v1/dashboard", headers=bearer(token), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _open_total(board: dict) -> Decimal:
    return sum((Decimal(s["amount"]) for s in board["pipeline"] if s["is_open"]), Decimal(0))


def test_dashboard_is_scoped_rep_other_rep_manager_admin(client: TestClient, bearer) -> None:
    rep = _board(client, bearer, DEMO.rep_token)
    other = _board(client, bearer, DEMO.other_rep_token)
    manager = _board(client, bearer, DEMO.manager_token)
    admin = _board(client, bearer, DEMO.admin_token)
    assert (rep["coverage"], manager["coverage"], admin["coverage"]) == ("own", "team", "all")
    assert [s["stage"] for s in rep["pipeline"]][:4] == [
        "prospecting", "qualification", "proposal", "negotiation"]  # fmt: skip
    assert rep["by_rep"] == [] and other["by_rep"] == []
    # The manager's figures are the sum of the team's reps, and the rep is one of them.
    names = [r["name"] for r in manager["by_rep"]]
    assert "Alice Moreno" in names and "Ben Okafor" not in names
    assert sum(r["accounts"] for r in manager["by_rep"]) == manager["accounts"]
    alice = next(r for r in manager["by_rep"] if r["name"] == "Alice Moreno")
    assert (alice["accounts"], Decimal(alice["open_amount"])) == (rep["accounts"], _open_total(rep))
    assert alice["conversations"] == rep["conversations"]
    assert rep["accounts"] < manager["accounts"] < admin["accounts"]
    assert _open_total(rep) != _open_total(other)
    assert _open_total(rep) + _open_total(other) <= _open_total(admin)
    buckets = rep["churn"]["buckets"]
    assert len(buckets) == 10 and buckets[0]["lower"] == 0 and buckets[-1]["upper"] == 1


def test_dashboard_period_is_validated(client: TestClient, bearer) -> None:
    assert _board(client, bearer, DEMO.rep_token, days=7)["days"] == 7
    for days in ("0", "367", "soon"):
        response = client.get(
            "/v1/dashboard", headers=bearer(DEMO.rep_token), params={"days": days}
        )
        assert response.status_code == 422 and "days" in response.json()["detail"]


def test_console_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    card = paths["/v1/accounts/{account_id}/card"]["get"]
    board = paths["/v1/dashboard"]["get"]
    assert card["tags"] == board["tags"] == ["console"]
    assert {"401", "404"} <= set(card["responses"]) and "days" in str(board["parameters"])


@pytest.mark.parametrize(
    "model", [AccountCardPublic, DashboardPublic, ConversationFiguresPublic, RepFiguresPublic]
)
def test_every_console_field_is_documented(model: type) -> None:
    """docs/console.md explains each figure; a new field without a line there fails here."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "console.md").read_text()
    missing = [name for name in model.model_fields if name not in docs]
    assert missing == []
