"""Concurrent chat sessions against a running API, and a count of turns lost on the way.

Shared by `bench/load.py` (the figures in docs/benchmarks.md) and the fault tests in
`tests/integration/test_cluster.py`, so both drive the same mix: customers asking for an
order (CRM read with the email check), a knowledge answer and filling the lead form, and reps
asking about their accounts. Every request goes to the API on loopback; the run is bounded by
its turn count and a deadline.

A turn is *lost* when the user's message is not in the stored transcript afterwards, whatever
the HTTP answer was: the product promises to keep every message, even when it answers 503.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import cycle, islice

import httpx
from sqlalchemy import func, select

from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.models import Conversation, Message, MessageSender

_C = DEMO_CREDENTIALS
CUSTOMER_SCRIPT = [
    "hi",
    f"where is my order {_C.customer_order_number}?",
    _C.customer_email,
    "how do I reset my password?",
    "I'm interested in your products",
    "Dana Scott",
    "dana.scott@example.com",
    "Scott Labs",
    "a CRM for twenty sales reps",
    "thanks",
]
REP_SCRIPT = [
    "give me a summary of Acme Corp",
    "what deals close this quarter?",
    "churn risk for Acme Corp",
    "what should I offer Acme Corp?",
    "next best action for Acme Corp",
]


@dataclass
class Turn:
    """One request: who sent what, the HTTP status (0 when no answer came) and its time."""

    channel: str
    session_id: str
    text: str
    status: int
    seconds: float


@dataclass
class LoadReport:
    """Everything a run measured."""

    turns: list[Turn] = field(default_factory=list)
    wall_seconds: float = 0.0
    lost_turns: int = 0

    def summary(self) -> dict[str, float | int | dict[str, int]]:
        """The JSON figures: throughput, latency percentiles (ms), errors by status, losses."""
        ok = sorted(t.seconds * 1000 for t in self.turns if t.status == 200)
        by_status: dict[str, int] = {}
        for turn in self.turns:
            by_status[str(turn.status)] = by_status.get(str(turn.status), 0) + 1
        return {
            "turns": len(self.turns),
            "turns_per_s": round(len(self.turns) / self.wall_seconds, 2)
            if self.wall_seconds
            else 0,
            "p50_ms": round(_pct(ok, 0.50), 1),
            "p95_ms": round(_pct(ok, 0.95), 1),
            "p99_ms": round(_pct(ok, 0.99), 1),
            "mean_ms": round(statistics.fmean(ok), 1) if ok else 0.0,
            "errors": len(self.turns) - len(ok),
            "by_status": by_status,
            "lost_turns": self.lost_turns,
            "wall_s": round(self.wall_seconds, 2),
        }


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def run_load(
    api_url: str,
    *,
    sessions: int,
    turns: int,
    rep_share: float = 0.3,
    deadline_s: float = 600.0,
    during: Callable[[], Awaitable[None]] | None = None,
) -> LoadReport:
    """Run `sessions` concurrent conversations of `turns` turns each, back to back.

    Args:
        api_url: The API's base URL (loopback).
        sessions: Concurrent conversations; about `rep_share` of them are reps.
        turns: Turns per conversation (the scripts repeat when shorter).
        deadline_s: No turn starts after this many seconds.
        during: Optional coroutine run alongside the load (a fault to inject).

    Returns:
        Every turn's outcome; `lost_turns` is filled by `count_lost_turns`.
    """
    reps = round(sessions * rep_share)
    run_id = uuid.uuid4().hex[:8]
    report = LoadReport()
    deadline = time.monotonic() + deadline_s
    limits = httpx.Limits(max_connections=sessions + 4, max_keepalive_connections=sessions + 4)
    async with httpx.AsyncClient(base_url=api_url, timeout=60.0, limits=limits,
                                 trust_env=False) as client:  # fmt: skip
        jobs = [
            _conversation(client, report, f"load-{run_id}-{i}", i < reps, turns, deadline)
            for i in range(sessions)
        ]
        started = time.monotonic()
        if during is not None:
            jobs.append(during())
        await asyncio.gather(*jobs)
        report.wall_seconds = time.monotonic() - started
    return report


async def _conversation(
    client: httpx.AsyncClient, report: LoadReport, session_id: str, rep: bool, turns: int,
    deadline: float,
) -> None:  # fmt: skip
    script = REP_SCRIPT if rep else CUSTOMER_SCRIPT
    path, headers = ("/v1/chat/rep", {"Authorization": f"Bearer {_C.rep_token}"}) if rep else (
        "/v1/chat/web", {})  # fmt: skip
    for text in islice(cycle(script), turns):
        if time.monotonic() > deadline:
            return
        started = time.perf_counter()
        try:
            response = await client.post(path, json={"session_id": session_id, "text": text},
                                         headers=headers)  # fmt: skip
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        report.turns.append(Turn("rep" if rep else "web", session_id, text, status,
                                 time.perf_counter() - started))  # fmt: skip


def count_lost_turns(report: LoadReport, database_url: str) -> int:
    """Turns sent minus the user messages found in the transcripts (stored redacted).

    Counted per session, so a message stored twice never hides one that is missing.
    """
    sent = Counter(turn.session_id for turn in report.turns)
    with session_scope(database_url) as session:
        rows = session.execute(
            select(Conversation.external_id, func.count(Message.id))
            .join(Message, Message.conversation_id == Conversation.id)
            .where(Message.sender == MessageSender.user)
            .where(Conversation.external_id.like("%load-%"))
            .group_by(Conversation.external_id)
        ).all()
    # Reps' sessions are namespaced by user id ("user-3:<session>").
    stored = {external_id.split(":", 1)[-1]: count for external_id, count in rows}
    lost = sum(max(0, n - stored.get(sid, 0)) for sid, n in sent.items())
    report.lost_turns = lost
    return lost
