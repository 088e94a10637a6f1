"""Small helpers shared by the query modules."""

from __future__ import annotations

import re

from crm_store.errors import InvalidInputError, PermissionDeniedError
from crm_store.models.enums import Role
from crm_store.scope import Scope

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_public_id(prefix: str, text: str | None) -> str | None:
    """Turn "ord-123", " ORD 123 " or "123" into "ORD-123"; None when it is not such an id."""
    if not text:
        return None
    match = re.fullmatch(rf"\s*(?:{prefix}\s*[-_ #]?\s*)?#?(\d{{1,12}})\s*", text, re.IGNORECASE)
    return f"{prefix.upper()}-{match.group(1)}" if match else None


def normalize_email(email: str | None) -> str:
    """Lower-case and strip an email, raising InvalidInputError when it is not one."""
    value = (email or "").strip().lower()
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise InvalidInputError(f"not a valid email address: {email!r}")
    return value


def require_text(value: str | None, field: str, max_len: int) -> str:
    """Strip `value` and refuse empty or over-long text."""
    text = (value or "").strip()
    if not text:
        raise InvalidInputError(f"{field} must not be empty")
    if len(text) > max_len:
        raise InvalidInputError(f"{field} is longer than {max_len} characters")
    return text


def require_staff(scope: Scope, action: str) -> int:
    """Return the staff user's id, or refuse customers and anonymous visitors."""
    if scope.user_id is None or scope.role is Role.customer:
        raise PermissionDeniedError(f"{action} is for staff only")
    return scope.user_id
