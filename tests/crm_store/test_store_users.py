"""Users and tokens: shown once, stored as SHA-256, checked on every request."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import Role, Scope
from crm_store.demo import DEMO_CREDENTIALS as DEMO
from crm_store.errors import InvalidInputError, NotFoundError
from crm_store.models import ApiToken, Team
from crm_store.queries.users import (
    authenticate_token,
    create_user,
    get_user_by_slack_id,
    hash_token,
    issue_token,
    link_slack,
    revoke_token,
)


def test_create_user_returns_a_token_stored_only_hashed(session: Session) -> None:
    user, token = create_user(session=session, email="Rita@Example.com", role="rep",
                              team="Enterprise")  # fmt: skip
    assert (user.email, user.name, user.role) == ("rita@example.com", "rita", Role.rep)
    assert user.team is not None and user.team.name == "Enterprise"
    assert token.startswith("crm_") and len(token) > 40
    stored = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() == hash_token(token)
    assert token not in {stored.token_hash, stored.prefix} and token.startswith(stored.prefix)
    assert authenticate_token(session=session, token=token) == user
    assert stored.last_used_at is not None
    _, second = create_user(session=session, email="sam@example.com", role="manager",
                            team="Enterprise")  # fmt: skip
    assert second != token and session.scalars(select(Team)).all() == [user.team]


def test_bad_users_are_refused(session: Session) -> None:
    create_user(session=session, email="a@example.com", role="admin")
    with pytest.raises(InvalidInputError, match="already exists"):
        create_user(session=session, email="A@example.com", role="rep")
    with pytest.raises(InvalidInputError, match="unknown role"):
        create_user(session=session, email="b@example.com", role="wizard")
    with pytest.raises(InvalidInputError, match="valid email"):
        create_user(session=session, email="not-an-email", role="rep")
    with pytest.raises(InvalidInputError, match="contact"):
        create_user(session=session, email="c@example.com", role="customer", contact_id=12345)


def test_wrong_revoked_or_inactive_tokens_fail(session: Session) -> None:
    user, token = create_user(session=session, email="t@example.com", role="rep")
    for bad in ("", "crm_nope", token + "x", token[:-1], "Bearer " + token):
        assert authenticate_token(session=session, token=bad) is None
    spare = issue_token(session=session, user_id=user.id)
    assert revoke_token(session=session, token=token) is True
    assert revoke_token(session=session, token=token) is False
    assert authenticate_token(session=session, token=token) is None
    assert authenticate_token(session=session, token=spare) == user
    user.is_active = False
    assert authenticate_token(session=session, token=spare) is None


def test_link_slack(session: Session) -> None:
    user, _ = create_user(session=session, email="s@example.com", role="rep")
    other, _ = create_user(session=session, email="o@example.com", role="rep")
    link_slack(session=session, user_id=user.id, slack_user_id="U012AB3CD")
    assert get_user_by_slack_id(session=session, slack_user_id="U012AB3CD") == user
    with pytest.raises(InvalidInputError, match="already linked"):
        link_slack(session=session, user_id=other.id, slack_user_id="U012AB3CD")
    with pytest.raises(NotFoundError):
        link_slack(session=session, user_id=999_999, slack_user_id="U999")


def test_demo_tokens_authenticate_as_their_people(seeded_session: Session) -> None:
    s = seeded_session
    expected = {
        DEMO.rep_token: (DEMO.rep_email, Role.rep),
        DEMO.other_rep_token: (DEMO.other_rep_email, Role.rep),
        DEMO.manager_token: (DEMO.manager_email, Role.manager),
        DEMO.agent_token: (DEMO.agent_email, Role.support_agent),
        DEMO.admin_token: (DEMO.admin_email, Role.admin),
        DEMO.customer_token: (DEMO.customer_email, Role.customer),
    }
    for token, (email, role) in expected.items():
        user = authenticate_token(session=s, token=token)
        assert user is not None and (user.email, user.role) == (email, role)
    customer = Scope.for_user(authenticate_token(session=s, token=DEMO.customer_token))
    assert customer.contact_id is not None and customer.email == DEMO.customer_email
