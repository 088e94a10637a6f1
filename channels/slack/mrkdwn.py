"""Slack message text: CRM values are data, never markup.

Slack treats `<...>` as links and mentions (`<!channel>` pings everyone) and `&` as the start
of an entity, so every value from the CRM or a customer is escaped before it is placed in a
message (https://api.slack.com/reference/surfaces/formatting#escaping).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal


def escape(text: object) -> str:
    """`&`, `<` and `>` as Slack entities; None becomes an empty string."""
    if text is None:
        return ""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, title: str) -> str:
    """A Slack link to an http(s) URL, else the escaped title alone."""
    if not url or not url.startswith(("http://", "https://")) or any(c in url for c in "|<> "):
        return escape(title)
    return f"<{url}|{escape(title)}>"


def day(value: datetime | None) -> str:
    """A date as YYYY-MM-DD (UTC), or an em dash."""
    return value.strftime("%Y-%m-%d") if value else "—"


def money(amount: Decimal | float | int, currency: str = "USD") -> str:
    """`12,500.00 USD`."""
    return f"{Decimal(amount):,.2f} {currency}"
