"""Slack message text: CRM values are data, never markup.

Slack treats `<...>` as links and mentions (`<!channel>` pings everyone) and `&` as the start
of an entity, so every value from the CRM or a customer is escaped before it is placed in a
message (https://api.slack.com/reference/surfaces/formatting#escaping).
"""

from __future__ import annotations

import re
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


_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_MENTION_OR_SPECIAL = re.compile(r"<[@#!][^>]*>")


def to_plain(text: str) -> str:
    """A Slack message as plain text for someone outside Slack (a customer's web chat).

    Links become `label (url)` or the bare url, mentions and `<!here>` are dropped, entities
    decoded; line breaks are kept.
    """

    def unlink(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        url = url.removeprefix("mailto:")
        return f"{label} ({url})" if label and label != url else url

    text = _LINK.sub(unlink, text or "")
    text = _MENTION_OR_SPECIAL.sub("", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines()).strip()
