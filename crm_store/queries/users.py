"""Users and API tokens: tokens are shown once and stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_store.errors import InvalidInputError, NotFoundError
from crm_store.models import ApiToken, Contact, Role, Team, User, utcnow
from crm_store.queries._common import normalize_email, require_text

TOKEN_PREFIX = "crm_"
_DISPLAY_PREFIX_LEN = 12


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a plain token (what the database keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_token() -> str:
    """A new random token: "crm_" + 43 URL-safe characters (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def issue_token(*, session: Session, user_id: int, token: str | None = None) -> str:
    """Store a token for the user and return it in plain text (the only time it is seen).

    Args:
        token: a fixed value (the demo data's known tokens); a random one by default.
    """
    plain = token or generate_token()
    if len(plain) < 20:
        raise InvalidInputError("tokens must be at least 20 characters")
    session.add(
        ApiToken(user_id=user_id, token_hash=hash_token(plain), prefix=plain[:_DISPLAY_PREFIX_LEN])
    )
    session.flush()
    return plain


def _team(session: Session, name: str | None) -> Team | None:
    if not name or not name.strip():
        return None
    name = name.strip()
    team = session.scalars(select(Team).where(Team.name == name)).first()
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"unknown role {role!r} (use one of: {allowed})") from exc


def create_user(
    *,
    session: Session,
    email: str,
    role: Role | str,
    name: str | None = None,
    team: str | None = None,
    contact_id: int | None = None,
    token: str | None = None,
) -> tuple[User, str]:
    """Create a user and their first API token.

    Args:
        team: team name, created when it does not exist yet.
        contact_id: for customers, the contact (and so the account) they speak for.
        token: a fixed token (demo data); random by default.

    Returns:
        The user and the plain token, which is not stored and cannot be shown again.

    Raises:
        InvalidInputError: bad email, unknown role, duplicate email, missing contact.
    """
    address = normalize_email(email)
    role = _role(role)
    if session.scalar(select(func.count(User.id)).where(func.lower(User.email) == address)):
        raise InvalidInputError(f"a user with email {address} already exists")
    if contact_id is not None and session.get(Contact, contact_id) is None:
        raise InvalidInputError(f"contact {contact_id} does not exist")
    display = (name or "").strip() or address.split("@", 1)[0]
    user = User(
        email=address, name=require_text(display, "name", 200), role=role,
        team=_team(session, team), contact_id=contact_id, is_active=True,
    )  # fmt: skip
    session.add(user)
    session.flush()
    return user, issue_token(session=session, user_id=user.id, token=token)


def authenticate_token(*, session: Session, token: str) -> User | None:
    """The active user holding this unrevoked token, or None; records its last use."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    stmt = (
        select(ApiToken)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .options(selectinload(ApiToken.user))
    )
    row = session.scalars(stmt).first()
    if row is None or not row.user.is_active:
        return None
    row.last_used_at = utcnow()
    return row.user


def revoke_token(*, session: Session, token: str) -> bool:
    """Revoke a token; True when one was active."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def get_user_by_email(*, session: Session, email: str) -> User | None:
    """The user with this email (case-insensitive), or None."""
    stmt = select(User).where(func.lower(User.email) == (email or "").strip().lower())
    return session.scalars(stmt).first()


def link_slack(*, session: Session, user_id: int, slack_user_id: str) -> User:
    """Tie a Slack member id to a user so Slack messages act with that user's scope.

    Raises:
        NotFoundError: no such user.
        InvalidInputError: empty id, or the id is already linked to another user.
    """
    slack_id = require_text(slack_user_id, "slack_user_id", 32)
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    other = get_user_by_slack_id(session=session, slack_user_id=slack_id)
    if other is not None and other.id != user.id:
        raise InvalidInputError(f"Slack user {slack_id} is already linked to another user")
    user.slack_user_id = slack_id
    session.flush()
    return user


def get_user_by_slack_id(*, session: Session, slack_user_id: str) -> User | None:
    """The active user linked to this Slack member id, or None."""
    stmt = select(User).where(User.slack_user_id == slack_user_id, User.is_active.is_(True))
    return session.scalars(stmt).first()
