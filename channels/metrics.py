"""Prometheus metrics of the API: `GET /metrics` in the text exposition format.

Two kinds, for two reasons:
- Per-process instruments (turn latency, NLU confidence, fallbacks, errors by kind) are
  observed where a turn runs. Under several uvicorn workers each process has its own
  counters; set `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode, as
  `make cluster` does) and the endpoint sums them.
- Facts that other processes create (handoffs opened by the action server, rule firings by
  the rules worker, notifications sent by the Slack deliverer) are counted in the CRM store at
  scrape time, so they are right whichever process answers the scrape.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from crm_store.db import session_scope
from crm_store.models import Conversation, Handoff, Notification, RuleFiring

FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})

TURN_SECONDS = Histogram(
    "crm_turn_seconds",
    "Time to answer one chat turn, by channel and outcome.",
    ["channel", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
NLU_CONFIDENCE = Histogram(
    "crm_nlu_confidence",
    "Confidence of the intent Rasa chose for each user message.",
    ["channel"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)
FALLBACKS = Counter(
    "crm_nlu_fallbacks_total",
    "User messages the NLU could not place (nlu_fallback or out_of_scope).",
    ["channel"],
)
BOT_FALLBACKS = Counter(
    "crm_bot_fallbacks_total",
    "Bot replies that fell back (could not help) or abstained (the knowledge base had no "
    "answer): the same marks the console's fallback rate counts.",
    ["channel", "outcome"],
)
ERRORS = Counter(
    "crm_errors_total",
    "Turns and requests that failed, by kind (assistant_unavailable, database, internal, ...).",
    ["kind"],
)


def observe_nlu(channel: str, intent: str | None, confidence: float | None) -> None:
    """Record what NLU understood of one user message."""
    if confidence is not None:
        NLU_CONFIDENCE.labels(channel).observe(confidence)
    if intent in FALLBACK_INTENTS:
        FALLBACKS.labels(channel).inc()


def observe_outcomes(channel: str, outcomes: list[str | None]) -> None:
    """Count the bot's fallback and abstain replies of one turn (at most one per kind)."""
    for outcome in {o for o in outcomes if o}:
        BOT_FALLBACKS.labels(channel, outcome).inc()


class StoreCollector(Collector):
    """Counts read from the CRM store at scrape time (cached briefly: scrapes come often)."""

    def __init__(self, database_url: str | None, ttl_s: float = 10.0) -> None:
        self._url = database_url
        self._ttl = ttl_s
        self._cached: tuple[float, list[Metric]] = (0.0, [])

    def collect(self) -> Iterator[Metric]:
        """Yield the store's metrics; on a database error, none (the scrape still works)."""
        stamp, metrics = self._cached
        if time.monotonic() - stamp > self._ttl:
            try:
                metrics = list(self._read())
            except Exception:  # a down database must not break the metrics endpoint
                ERRORS.labels("metrics_database").inc()
                metrics = []
            self._cached = (time.monotonic(), metrics)
        yield from metrics

    def _read(self) -> Iterable[Metric]:
        """One GROUP BY per family: (kind, name, help, labels, columns)."""
        families = []
        with session_scope(self._url) as session:
            for kind, name, doc, labels, columns in _STORE_FAMILIES:
                family = kind(name, doc, labels=labels)
                for *values, count in session.execute(
                    select(*columns, func.count()).group_by(*columns)
                ):
                    family.add_metric([str(v) for v in values], count)
                families.append(family)
        return families


# Facts other processes write, counted where they are stored.
_STORE_FAMILIES = [
    (CounterMetricFamily, "crm_handoffs", "Conversations handed to a person, by reason and status.",
     ["reason", "status"], (Handoff.reason, Handoff.status)),
    (CounterMetricFamily, "crm_rule_firings", "Rule firings recorded by the rules workers.",
     ["rule", "status"], (RuleFiring.rule_name, RuleFiring.status)),
    (GaugeMetricFamily, "crm_notifications", "Notifications in the outbox, by channel and status.",
     ["channel", "status"], (Notification.channel, Notification.status)),
    (GaugeMetricFamily, "crm_conversations", "Conversations by channel and status.",
     ["channel", "status"], (Conversation.channel, Conversation.status)),
]  # fmt: skip


def render(store: StoreCollector) -> tuple[bytes, str]:
    """The exposition text and its content type, merging worker processes when configured."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    store_registry = CollectorRegistry()
    store_registry.register(store)
    return body + generate_latest(store_registry), CONTENT_TYPE_LATEST
