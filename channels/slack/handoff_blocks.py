"""The Block Kit message a handoff thread starts with: who, why, their account, the
transcript so far, and Claim / Resolve buttons. Pure: a `HandoffContext` in, blocks out."""

from __future__ import annotations

from typing import Any

from channels.slack.mrkdwn import day, escape, money
from crm_store.queries.handoff_context import HandoffContext

CLAIM_ACTION = "handoff_claim"
RESOLVE_ACTION = "handoff_resolve"
SECTION_CHARS = 2900  # Slack caps a section's text at 3000 characters
_REASONS = {
    "customer_request": "asked for a person",
    "bot_abstained": "the bot could not answer twice in a row",
    "negative_sentiment": "the customer sounds upset",
}
_SPEAKERS = {"user": "Customer", "bot": "Bot", "agent": "Agent", "system": "System"}
Block = dict[str, Any]


def _section(text: str) -> Block:
    if len(text) > SECTION_CHARS:
        text = "…" + text[-(SECTION_CHARS - 1) :]  # the latest lines matter most
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def title(ctx: HandoffContext) -> str:
    """The one-line summary (also the notification's fallback text)."""
    who = escape(ctx.customer_name or ctx.customer_email or "A website visitor")
    why = _REASONS.get(ctx.reason, escape(ctx.reason))
    return f"Handoff #{ctx.handoff_id}: {who} ({why})"


def customer_lines(ctx: HandoffContext) -> str:
    """Who the customer is and what the CRM knows about their account."""
    email = escape(ctx.customer_email) if ctx.customer_email else "no email given"
    if ctx.customer_email and not ctx.email_verified:
        email += " _(typed into the chat, not verified)_"
    lines = [f"*Customer:* {escape(ctx.customer_name or 'unknown')} — {email}"]
    if ctx.account_name:
        lines.append(f"*Account:* {escape(ctx.account_name)}")
    if ctx.churn_score is not None:
        reasons = "; ".join(escape(r) for r in ctx.churn_reasons)
        label = f" {escape(ctx.churn_label)}" if ctx.churn_label else ""
        lines.append(f"*Churn risk:* {ctx.churn_score:.0%}{label}"
                     + (f" — {reasons}" if reasons else ""))  # fmt: skip
    orders = ", ".join(f"{o.number} ({o.status}, {day(o.placed_at)}, {money(o.total, o.currency)})"
                       for o in ctx.open_orders)  # fmt: skip
    tickets = ", ".join(f"{t.number} {escape(t.subject)} ({t.status}, {t.priority})"
                        for t in ctx.open_tickets)  # fmt: skip
    lines.append(f"*Open orders:* {orders or 'none'}")
    lines.append(f"*Open tickets:* {tickets or 'none'}")
    if ctx.status == "away":
        ticket = f" Ticket {ctx.ticket_number} was opened." if ctx.ticket_number else ""
        lines.append(f":zzz: Requested outside business hours; the customer was told the team "
                     f"is away.{ticket}")  # fmt: skip
    return "\n".join(lines)


def transcript(ctx: HandoffContext) -> str:
    """The conversation so far, one line per message, oldest first."""
    rows = [f"*{_SPEAKERS.get(line.sender, escape(line.sender))}:* {escape(line.text)}"
            for line in ctx.transcript]  # fmt: skip
    return "\n".join(rows) or "_(no messages)_"


def buttons(handoff_id: int) -> Block:
    """Claim and Resolve; the value is the handoff id."""
    value = str(handoff_id)
    return {"type": "actions", "block_id": f"handoff_{value}", "elements": [
        {"type": "button", "action_id": CLAIM_ACTION, "style": "primary", "value": value,
         "text": {"type": "plain_text", "text": "Claim"}},
        {"type": "button", "action_id": RESOLVE_ACTION, "value": value,
         "text": {"type": "plain_text", "text": "Resolve"}},
    ]}  # fmt: skip


def state_line(ctx: HandoffContext) -> str:
    """Where the handoff stands, for the line under the transcript."""
    who = escape(ctx.claimed_by_name or "an agent")
    if ctx.status == "resolved":
        return f":white_check_mark: Resolved by {who}; the bot has the chat again."
    if ctx.status == "claimed":
        return f":speech_balloon: {who} has it: their replies in this thread reach the customer."
    return "Claim it, then reply in this thread: your replies reach the customer's chat."


def handoff_blocks(ctx: HandoffContext) -> list[Block]:
    """The thread's first message; re-rendered when the handoff is claimed or resolved."""
    blocks = [
        _section(f":raising_hand: *{title(ctx)}*"),
        _section(customer_lines(ctx)),
        {"type": "divider"},
        _section(transcript(ctx)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": state_line(ctx)}]},
    ]
    return blocks if ctx.status == "resolved" else [*blocks, buttons(ctx.handoff_id)]
