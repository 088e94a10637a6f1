"""The API's versions of records: what crosses the HTTP boundary, and nothing more.

ORM models live in `crm_store`; these Pydantic models decide which fields leave the process
(no token hashes, no internal notes) and give each response a stable, documented shape.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

# Session ids are chosen by the browser (a random UUID on our pages). They key an anonymous
# conversation, so a short guessable id would let a stranger continue someone else's chat:
# hence a minimum length, and a narrow charset so they are safe in logs and Rasa sender ids.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
# Row ids are 32-bit INTEGER columns on PostgreSQL: a larger id in a path is refused with 422
# rather than reaching the database as an out-of-range error (found by the API fuzz test).
MAX_ROW_ID = 2**31 - 1
_SESSION_ID_RE = re.compile(SESSION_ID_PATTERN)
ORDER_NUMBER_PATTERN = r"^[Oo][Rr][Dd]-[0-9]{1,12}$"


class ChatRequest(BaseModel):
    """One chat turn sent by a client (POST body or WebSocket frame)."""

    model_config = ConfigDict(extra="ignore", str_strict=True)

    session_id: str = Field(
        description="Client-chosen conversation key: 8-64 letters, digits, '_' or '-'.",
        json_schema_extra={"pattern": SESSION_ID_PATTERN},
        examples=["9b2f0c7e-5a1d-4c3b-8f7e-2d6a1b0c9e8f"],
    )
    text: str = Field(description="The message; not blank, at most CRM_MAX_TEXT_CHARS long.")

    @field_validator("session_id")
    @classmethod
    def _valid_session_id(cls, value: str) -> str:
        """A pattern error would quote the regex; say it in words instead."""
        if not _SESSION_ID_RE.fullmatch(value):
            raise ValueError("must be 8-64 characters: letters, digits, '_' or '-'")
        return value

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        """Reject blank messages here so every channel gives the same reason."""
        if not value.strip():
            raise ValueError("must not be empty or only whitespace")
        return value


class Button(BaseModel):
    """A quick reply: show `title`, send `payload` back as the next message when clicked."""

    title: str
    payload: str


class BotMessage(BaseModel):
    """One message from the assistant or, during a handoff, from a support agent.

    `outcome` ("fallback" or "abstain", from the bot's response) is kept in the stored
    transcript for analytics; it is not part of the API's answer.
    """

    text: str
    buttons: list[Button] | None = None
    sender: Literal["bot", "agent"] | None = Field(
        default=None, description="`agent` for a person's reply; absent or `bot` otherwise."
    )
    agent_name: str | None = Field(default=None, description="The agent's name, on agent lines.")
    id: int | None = Field(
        default=None, description="Stored message id of pushed lines, for de-duplication."
    )
    outcome: SkipJsonSchema[str | None] = Field(default=None, exclude=True)


class ChatResponse(BaseModel):
    """The assistant's answer to one turn, in the order Rasa produced it.

    During a handoff the customer's message goes to the support agent instead of the bot:
    `messages` then holds only agent lines not shown yet (often none), and `handoff` says
    where the request stands.
    """

    session_id: str
    messages: list[BotMessage]
    handoff: Literal["pending", "claimed"] | None = Field(
        default=None, description="Set while a person has (or is about to take) the chat."
    )


class PushFrame(BaseModel):
    """A WebSocket frame the server sends unasked: agent replies, the hand-back, CSAT."""

    type: Literal["push"] = "push"
    messages: list[BotMessage]


class ErrorFrame(BaseModel):
    """What the WebSocket sends instead of closing when a frame cannot be answered."""

    type: Literal["error"] = "error"
    status: int = Field(description="The HTTP status the same problem gets over POST.")
    detail: str
    retry_after: int | None = Field(
        default=None, description="With status 429: seconds to wait before the next frame."
    )


class MePublic(BaseModel):
    """The user behind a token, as the token's holder may see it."""

    user_id: int
    email: str | None
    role: str
    team_id: int | None


class AccountPublic(BaseModel):
    """An account as listed by search."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    industry: str | None = None
    country: str | None = None
    status: str


class AccountsPublic(BaseModel):
    """A page of accounts the caller may see."""

    data: list[AccountPublic]
    count: int


class AccountSummaryPublic(BaseModel):
    """The figures a rep asks for first about an account.

    Deal figures are 0 for roles that see no pipeline; the last activity and churn risk are
    withheld from customers. Money is a decimal string, as JSON numbers would round it.
    """

    model_config = ConfigDict(from_attributes=True)

    owner_name: str | None
    owner_email: str | None
    open_deal_count: int
    open_deal_amount: Decimal
    open_ticket_count: int
    last_activity_at: dt.datetime | None
    last_activity_subject: str | None
    churn_score: float | None
    churn_label: str | None


class AccountDetailPublic(AccountPublic):
    """One account with its summary."""

    summary: AccountSummaryPublic


class OrderLinePublic(BaseModel):
    """One product on an order."""

    sku: str
    product_name: str
    quantity: int
    unit_price: Decimal


class OrderPublic(BaseModel):
    """An order as its viewer may see it (the email it was placed with stays private)."""

    number: str
    status: str
    account_id: int
    account_name: str
    placed_at: dt.datetime
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    total: Decimal
    currency: str
    tracking_number: str | None
    lines: list[OrderLinePublic]


class ComponentHealth(BaseModel):
    """Health of one dependency."""

    status: Literal["ok", "down"]
    detail: str | None = None


class HealthPublic(BaseModel):
    """Overall health: `degraded` when any component is down."""

    status: Literal["ok", "degraded"]
    components: dict[str, ComponentHealth]
