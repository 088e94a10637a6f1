"""Who is talking: the verified identity the channels put into each turn's metadata.

`channels/` builds `metadata = {"crm": IDENTITY}` from the authenticated session (see
docs/spine.md). Anything missing or malformed means an anonymous customer, the least
privilege, so a broken or forged payload can never widen what a person sees.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from crm_store.scope import Role, Scope

_ID_KEYS = ("user_id", "team_id", "contact_id")


def crm_metadata(tracker: Tracker) -> dict[str, Any]:
    """Return the `crm` identity dict of the latest user message, or {} when absent."""
    message = tracker.latest_message or {}
    metadata = message.get("metadata") or {}
    crm = metadata.get("crm") if isinstance(metadata, dict) else None
    return crm if isinstance(crm, dict) else {}


def _optional_id(value: Any) -> int | None:
    """An integer id or None; bools and strings are malformed (raise ValueError)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not an id: {value!r}")
    return value


def _optional_email(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "@" not in value:
        raise ValueError("not an email")
    return value.strip().lower()


def scope_from_tracker(tracker: Tracker) -> Scope:
    """Build the `crm_store.Scope` for the person behind the latest message.

    Args:
        tracker: the conversation tracker; its latest user message carries the metadata.

    Returns:
        The scope from `metadata["crm"]`; `Scope.anonymous()` when the key is missing or any
        field is malformed (unknown role, non-integer id, bad email).
    """
    crm = crm_metadata(tracker)
    if not crm:
        return Scope.anonymous()
    try:
        role = Role(crm.get("role"))
        ids = {key: _optional_id(crm.get(key)) for key in _ID_KEYS}
        email = _optional_email(crm.get("email"))
    except ValueError:
        return Scope.anonymous()
    if ids["user_id"] is None:
        # Without a user there is no verified person behind the role: treat as a visitor.
        return Scope.anonymous()
    return Scope(role=role, email=email, **ids)


def conversation_ref(tracker: Tracker) -> tuple[int | None, str, str]:
    """The CRM conversation id (if the channel sent one), the channel and the sender id.

    The sender id is `"<channel>-<random conversation key>"` as the channels send it; it is the
    fallback key for `get_or_create_conversation` when `conversation_id` is missing.
    """
    crm = crm_metadata(tracker)
    try:
        conversation_id = _optional_id(crm.get("conversation_id"))
    except ValueError:
        conversation_id = None
    channel = crm.get("channel") if crm.get("channel") in ("web", "rep", "slack") else "web"
    return conversation_id, channel, tracker.sender_id
