"""Accounts are scoped by the token's user; someone else's account is a plain 404."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crm_store.demo import DEMO_CREDENTIALS as DEMO

Bearer = dict[str, str]


def _names(client: TestClient, auth: Bearer, q: str = "", limit: int = 100) -> list[str]:
    response = client.get("/v1/accounts", params={"q": q, "limit": limit}, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["data"])
    return [account["name"] for account in body["data"]]


@pytest.fixture
def acme_id(client: TestClient, bearer) -> int:
    """The id of the rep's Acme Corp, looked up as the admin (who sees everything)."""
    response = client.get(
        "/v1/accounts", params={"q": DEMO.rep_account_name}, headers=bearer(DEMO.admin_token)
    )
    [account] = [a for a in response.json()["data"] if a["name"] == DEMO.rep_account_name]
    return account["id"]


def test_rep_finds_own_accounts_by_name(client: TestClient, bearer) -> None:
    assert _names(client, bearer(DEMO.rep_token), "acme") == ["Acme Corp", "Acme Logistics"]
    assert _names(client, bearer(DEMO.rep_token), "  ACME corp ") == ["Acme Corp"]


def test_other_rep_does_not_see_them(client: TestClient, bearer) -> None:
    assert _names(client, bearer(DEMO.other_rep_token), "acme") == []
    assert "Globex Corporation" in _names(client, bearer(DEMO.other_rep_token), "globex")


def test_rep_reads_own_account_with_summary(client: TestClient, bearer, acme_id: int) -> None:
    response = client.get(f"/v1/accounts/{acme_id}", headers=bearer(DEMO.rep_token))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["industry"]) == (acme_id, "Acme Corp", "Manufacturing")
    summary = body["summary"]
    assert (summary["owner_name"], summary["owner_email"]) == ("Alice Moreno", DEMO.rep_email)
    assert isinstance(summary["open_deal_count"], int)
    assert isinstance(summary["open_ticket_count"], int)
    assert float(summary["open_deal_amount"]) >= 0


def test_other_reps_account_is_indistinguishable_from_a_missing_one(
    client: TestClient, bearer, acme_id: int
) -> None:
    hidden = client.get(f"/v1/accounts/{acme_id}", headers=bearer(DEMO.other_rep_token))
    missing = client.get("/v1/accounts/987654321", headers=bearer(DEMO.other_rep_token))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"detail": "Account not found."}


def test_manager_sees_the_team_but_not_other_teams(
    client: TestClient, bearer, acme_id: int
) -> None:
    own_team = client.get(f"/v1/accounts/{acme_id}", headers=bearer(DEMO.manager_token))
    other_team = client.get(f"/v1/accounts/{acme_id}", headers=bearer(DEMO.other_manager_token))
    assert own_team.status_code == 200
    assert own_team.json()["summary"]["owner_email"] == DEMO.rep_email
    assert other_team.status_code == 404
    names = set(_names(client, bearer(DEMO.manager_token)))
    assert {"Acme Corp", "Northwind Traders", "Initech"} <= names  # rep1's and rep3's
    assert "Globex Corporation" not in names  # rep2 is in the other team


def test_customer_sees_only_their_company(client: TestClient, bearer) -> None:
    assert _names(client, bearer(DEMO.customer_token)) == [DEMO.customer_account_name]


def test_limit_caps_the_page(client: TestClient, bearer) -> None:
    assert len(_names(client, bearer(DEMO.admin_token), limit=3)) == 3


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        ("/v1/accounts/abc", {}, "account_id: Input should be a valid integer"),
        ("/v1/accounts/0", {}, "account_id: Input should be greater than or equal to 1"),
        ("/v1/accounts/99999999999999999999", {}, "account_id: Input should be less than"),
        ("/v1/accounts", {"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ("/v1/accounts", {"limit": "many"}, "limit: Input should be a valid integer"),
        ("/v1/accounts", {"q": "x" * 201}, "q: String should have at most 200 characters"),
    ],
)
def test_bad_parameters_are_422_with_a_reason(
    client: TestClient, bearer, path: str, params: dict, reason: str
) -> None:
    response = client.get(path, params=params, headers=bearer(DEMO.rep_token))
    assert response.status_code == 422
    assert reason in response.json()["detail"]
