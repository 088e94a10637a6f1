"""What an agent typed, as one explicit command: `/crm help` lists them (docs/slack.md).

This is a command surface, not a conversation, so a handful of small patterns beats an NLU
model: every form is documented, nothing is guessed, and anything that is not a command is
a knowledge-base question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """The things an agent can ask for."""

    help = "help"
    who_is = "who_is"
    open_tickets = "open_tickets"
    account = "account"
    open_deals = "open_deals"
    order = "order"
    ticket = "ticket"
    claim = "claim"
    resolve = "resolve"
    search = "search"


@dataclass(frozen=True, slots=True)
class Command:
    """One parsed request: the action and its argument ("" when it takes none)."""

    action: Action
    arg: str = ""


HELP_TEXT = (
    "*What I can do* (in a DM, by mentioning me, or with `/crm`):\n"
    "• `who is jane@acme.example` — the contact and their account\n"
    "• `open tickets for Acme` — an account's open tickets\n"
    "• `account Acme` — owner, open deals and tickets, churn risk\n"
    "• `deals for Acme` — an account's open deals\n"
    "• `order ORD-100001`, `ticket TCK-1001` — one order or ticket\n"
    "• `claim [handoff id]`, `resolve [handoff id]` — take or close a customer handoff "
    "(in its thread, or with its id)\n"
    "• anything else — a search of the knowledge base, internal articles included\n"
    "I answer with what your linked CRM user may see."
)

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_ORDER = re.compile(r"\bORD[-\s]?\d+\b", re.IGNORECASE)
_TICKET = re.compile(r"\bTCK[-\s]?\d+\b", re.IGNORECASE)
_HANDOFF = re.compile(r"^(claim|resolve)(?:\s+(?:handoff\s+)?#?(\d{1,12}))?$", re.IGNORECASE)
# (pattern, action): the name after the keywords is the argument.
_NAMED = (
    (re.compile(r"^(?:show\s+)?(?:open\s+)?tickets\s+(?:for|of|at)\s+(.+)$", re.I),
     Action.open_tickets),
    (re.compile(r"^(?:show\s+)?(?:open\s+)?deals\s+(?:for|of|at|with)\s+(.+)$", re.I),
     Action.open_deals),
    (re.compile(r"^(?:account|summary(?:\s+of)?|tell me about)\s+(.+)$", re.I), Action.account),
    (re.compile(r"^(?:search|kb|find)\s+(.+)$", re.I), Action.search),
)  # fmt: skip
_WHO = re.compile(r"^(?:who\s+is|who's|whois|contact)\b", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Slack's markup removed: bot mentions dropped, `<mailto:a@b|a@b>` back to `a@b`."""
    text = _MAILTO.sub(r"\1", text or "")
    text = _MENTION.sub(" ", text)
    return " ".join(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").split())


def _strip(arg: str) -> str:
    return arg.strip().rstrip("?!.,;:").strip().strip("\"'“”")


def parse(text: str) -> Command:
    """Turn a message or `/crm` text into a command.

    Args:
        text: what the agent typed, with or without Slack markup.

    Returns:
        The command; free text becomes `search` with the text as its question.
    """
    text = clean_text(text)
    bare = _strip(text)
    if bare.lower() in ("", "help", "?", "commands"):
        return Command(Action.help)
    handoff = _HANDOFF.match(bare)
    if handoff:
        return Command(Action(handoff.group(1).lower()), handoff.group(2) or "")
    email = _EMAIL.search(text)
    if email and _WHO.match(bare):
        return Command(Action.who_is, email.group(0))
    for pattern, action in _NAMED:
        named = pattern.match(bare)
        if named and _strip(named.group(1)):
            return Command(action, _strip(named.group(1)))
    for pattern, action in ((_ORDER, Action.order), (_TICKET, Action.ticket)):
        found = pattern.search(text)
        if found:
            return Command(action, found.group(0))
    return Command(Action.search, text)
