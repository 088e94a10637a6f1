"""Accounts the bearer token's user may see; another rep's account is a plain 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from channels.api.deps import CurrentUser, SessionDep
from channels.schemas import (
    MAX_ROW_ID,
    AccountDetailPublic,
    AccountPublic,
    AccountsPublic,
    AccountSummaryPublic,
)
from crm_store.queries.accounts import account_summary, search_accounts

router = APIRouter(prefix="/accounts", tags=["accounts"])

# Bounded so an absurd id is a 422 on every database, not an overflow error on PostgreSQL.
AccountId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The account's id.")]


@router.get("", response_model=AccountsPublic)
def list_accounts(
    session: SessionDep,
    scope: CurrentUser,
    q: Annotated[str, Query(max_length=200, description="Part of the account name.")] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AccountsPublic:
    """Search the accounts you may see by name."""
    accounts = search_accounts(session=session, scope=scope, q=q.strip(), limit=limit)
    data = [AccountPublic.model_validate(account) for account in accounts]
    return AccountsPublic(data=data, count=len(data))


@router.get("/{account_id}", response_model=AccountDetailPublic, responses={404: {}})
def read_account(
    session: SessionDep, scope: CurrentUser, account_id: AccountId
) -> AccountDetailPublic:
    """One account with its owner, open deals, open tickets and churn risk."""
    summary = account_summary(session=session, scope=scope, account_id=account_id)
    if summary is None:
        raise HTTPException(status_code=404, detail="Account not found.")
    return AccountDetailPublic(
        id=summary.account_id,
        name=summary.name,
        industry=summary.industry,
        country=summary.country,
        status=summary.status,
        summary=AccountSummaryPublic.model_validate(summary),
    )
