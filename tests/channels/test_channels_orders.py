"""Orders by number, scoped like accounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from crm_store.demo import DEMO_CREDENTIALS as DEMO

ORDER = DEMO.customer_order_number  # on Northwind Traders, owned by the rep (Alice)


@pytest.mark.parametrize(
    "token", [DEMO.rep_token, DEMO.manager_token, DEMO.agent_token, DEMO.customer_token]
)
def test_order_is_visible_to_owner_team_support_and_its_customer(
    client: TestClient, bearer, token: str
) -> None:
    response = client.get(f"/v1/orders/{ORDER}", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == ORDER
    assert body["account_name"] == DEMO.customer_account_name
    assert body["lines"], "a demo order has at least one line"
    line_total = sum(Decimal(line["unit_price"]) * line["quantity"] for line in body["lines"])
    assert line_total == Decimal(body["total"])
    assert "email" not in body


def test_number_is_case_insensitive(client: TestClient, bearer) -> None:
    response = client.get(f"/v1/orders/{ORDER.lower()}", headers=bearer(DEMO.rep_token))
    assert response.status_code == 200
    assert response.json()["number"] == ORDER


@pytest.mark.parametrize("token", [DEMO.other_rep_token, DEMO.other_manager_token])
def test_other_reps_order_is_indistinguishable_from_a_missing_one(
    client: TestClient, bearer, token: str
) -> None:
    hidden = client.get(f"/v1/orders/{ORDER}", headers=bearer(token))
    missing = client.get("/v1/orders/ORD-1", headers=bearer(token))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"detail": "Order not found."}


@pytest.mark.parametrize("number", ["12345", "ORD-", "ORD-12a", "TCK-1", "ORD-1234567890123"])
def test_malformed_number_is_422(client: TestClient, bearer, number: str) -> None:
    response = client.get(f"/v1/orders/{number}", headers=bearer(DEMO.rep_token))
    assert response.status_code == 422
    assert response.json()["detail"] == "number: must look like ORD-<digits>, e.g. ORD-536365"
