"""Knowledge-base answers for agents: internal articles allowed, every answer cited."""

from __future__ import annotations

import logging

from channels.slack.mrkdwn import escape, link
from crm_store import Scope
from retrieval.service import get_service, snippet
from retrieval.types import Answer, Audience, Hit

log = logging.getLogger(__name__)

UNAVAILABLE = "The knowledge base is unavailable right now; please try again shortly."


def _cite(hit: Hit) -> str:
    internal = " _(internal)_" if hit.audience == Audience.internal else ""
    return f"{link(hit.url, hit.title)}{internal}"


def format_answer(result: Answer) -> str:
    """The answer as mrkdwn: the passage and its source, or the closest sources when unsure."""
    if not result.citations:
        return escape(result.text)
    if result.abstained:
        closest = "\n".join(f"• {_cite(hit)}" for hit in result.citations)
        return (f"I'm not sure the knowledge base answers that (confidence "
                f"{result.confidence:.0%}). Closest articles:\n{closest}")  # fmt: skip
    top, *others = result.citations
    text = (f"{escape(snippet(top))}\n\nSource: {_cite(top)} "
            f"(confidence {result.confidence:.0%})")  # fmt: skip
    if others:
        text += "\nSee also: " + ", ".join(_cite(hit) for hit in others)
    return text


def search_knowledge(question: str, *, scope: Scope, database_url: str | None) -> str:
    """Answer `question` from the knowledge base as `scope` may read it (staff: internal too).

    Blocking (embedding and FAISS search): call it from a worker thread.
    """
    audience = Audience.internal if scope.is_staff else Audience.public
    try:
        result = get_service(database_url).answer(question, audience.value)
    except Exception:  # a broken index must not break Slack; the log says why
        log.exception("knowledge search from Slack failed")
        return UNAVAILABLE
    return format_answer(result)
