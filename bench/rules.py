"""Rules worker throughput: N events x M rules, one worker, on a fresh seeded SQLite database.

Builds the demo company, writes N pending events spread over every trigger (subjects are real
demo records), generates M rules (spread over the triggers, a few of them matching often),
then times three things: loading the rule files, evaluating every event against the rules of
its type (context building included, no writes), and the full worker drain (claim, evaluate,
act, audit, commit). The target is 100k events x 200 rules in 10 s or less on 2 cores.

    .venv/bin/python bench/rules.py --events 100000 --rules 200 [--postgres URL]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

# Run as `python bench/rules.py`, this file's folder comes first on sys.path and its name would
# hide the `rules` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from sqlalchemy import insert, select  # noqa: E402

from crm_store import db, migrate  # noqa: E402
from crm_store.demo import seed  # noqa: E402
from crm_store.models import Account, CrmEvent, Deal, Task, Ticket, utcnow  # noqa: E402
from rules.context import build_envs  # noqa: E402
from rules.engine import drain, new_worker_id  # noqa: E402
from rules.loader import load_rules  # noqa: E402

# (trigger, trigger spec, a condition that rarely holds, one that often holds)
SHAPES = [
    (
        "deal_stage_changed",
        "deal_stage_changed",
        "deal.amount > {big}",
        "event.to_stage == 'negotiation'",
    ),
    (
        "deal_idle",
        "{event: deal_idle, days: 14}",
        "deal.amount > {big} and deal.stage != 'x'",
        "deal.last_activity_at < now - 1d or deal.last_activity_at == null",
    ),
    (
        "renewal_due",
        "{event: renewal_due, days: 30}",
        "deal.amount > {big}",
        "deal.stage in ['proposal', 'negotiation']",
    ),
    (
        "ticket_created",
        "ticket_created",
        "ticket.priority == 'urgent' and account.id == -{n}",
        "ticket.priority in ['high', 'urgent']",
    ),
    (
        "ticket_sla_due",
        "{event: ticket_sla_due, hours: 2}",
        "ticket.sla_due_at < now - {n}w",
        "ticket.status == 'open'",
    ),
    (
        "task_overdue",
        "task_overdue",
        "task.due_at < now - {n}w and task.status == 'open'",
        "task.status == 'open'",
    ),
    ("task_created", "task_created", "task.title == 'nothing {n}'", "event.source == 'bot'"),
    (
        "score_crossed",
        "score_crossed",
        "event.score > 1.{n}",
        "event.kind == 'churn' and event.direction == 'up'",
    ),
    ("lead_created", "lead_created", "event.source == 'nowhere-{n}'", "event.source == 'web_chat'"),
    ("negative_sentiment", "negative_sentiment", "event.score < -1.{n}", "event.score < -0.5"),
    (
        "conversation_handed_over",
        "conversation_handed_over",
        "event.reason == 'r{n}'",
        "event.channel == 'web'",
    ),
]


def write_rules(directory: Path, count: int, often_every: int) -> None:
    """`count` rules over the shapes; every `often_every`-th rule uses the frequent condition."""
    lines = ["rules:"]
    for i in range(count):
        name, trigger, rare, often = SHAPES[i % len(SHAPES)]
        condition = often if i % often_every == 0 else rare.format(big=10**9 + i, n=i + 1)
        lines += [
            f"  - name: bench-{i:03d}-{name}", "    owner: ops@example.com",
            f"    trigger: {trigger}", f"    priority: {i % 7}", "    conditions:",
            f'      - "{condition}"', "    actions:",
            f'      - notify: {{to: "#bench", message: "rule {i} on event {{event.id}}"}}',
        ]  # fmt: skip
    (directory / "bench.yml").write_text("\n".join(lines) + "\n")


def write_events(url: str, count: int, rng: random.Random) -> None:
    """`count` pending events over every trigger, on real demo records."""
    with db.session_scope(url) as session:
        ids = {
            "deal": session.scalars(select(Deal.id)).all(),
            "ticket": session.scalars(select(Ticket.id)).all(),
            "task": session.scalars(select(Task.id)).all(),
            "account": session.scalars(select(Account.id)).all(),
        }
        now = utcnow()
        payloads = {
            "deal_stage_changed": (
                "deal",
                lambda: {
                    "from_stage": "proposal",
                    "to_stage": rng.choice(["negotiation", "closed_lost"]),
                },
            ),
            "deal_idle": ("deal", lambda: {"days": 14}),
            "renewal_due": ("deal", lambda: {"days": 30}),
            "ticket_created": ("ticket", lambda: {"priority": "normal"}),
            "ticket_sla_due": ("ticket", lambda: {"hours": 2}),
            "task_overdue": ("task", dict),
            "task_created": ("task", lambda: {"source": rng.choice(["bot", "manual"])}),
            "score_crossed": (
                "account",
                lambda: {"kind": "churn", "score": rng.random(), "bound": 0.7, "direction": "up"},
            ),
            "lead_created": ("lead", lambda: {"source": "web_chat"}),
            "negative_sentiment": ("conversation", lambda: {"score": -rng.random()}),
            "conversation_handed_over": (
                "conversation",
                lambda: {"reason": "asked", "channel": "web"},
            ),
        }
        types = list(payloads)
        rows = []
        for _ in range(count):
            kind = rng.choice(types)
            subject, payload = payloads[kind]
            pool = ids.get(subject)
            rows.append(
                {
                    "type": kind,
                    "subject_type": subject,
                    "subject_id": rng.choice(pool) if pool else None,
                    "payload": payload(),
                    "status": "pending",
                    "occurred_at": now,
                }
            )
        for start in range(0, count, 10_000):
            session.execute(insert(CrmEvent), rows[start : start + 10_000])


def evaluate_only(url: str, ruleset, batch: int) -> tuple[float, int]:  # noqa: ANN001
    """Seconds to build contexts and evaluate every pending event, and the matches found."""
    started, matches = time.perf_counter(), 0
    with db.session_scope(url) as session:
        last = 0
        while True:
            table = CrmEvent.__table__
            events = list(
                session.execute(
                    select(table).where(table.c.id > last).order_by(table.c.id).limit(batch)
                )
            )
            if not events:
                break
            last = events[-1].id
            for event, env in zip(events, build_envs(session, events, utcnow()), strict=True):
                matches += sum(rule.check(env) for rule in ruleset.for_event(event.type))
    return time.perf_counter() - started, matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument(
        "--often-every",
        type=int,
        default=40,
        help="every Nth rule matches often (the others almost never)",
    )
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL instead of SQLite")
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of the drain to this file (pstats format)"
    )
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.sqlite3"
        migrate.upgrade(url)
        with db.session_scope(url) as session:
            seed(session)
        write_events(url, args.events, rng)
        write_rules(Path(tmp), args.rules, args.often_every)
        started = time.perf_counter()
        ruleset = load_rules(Path(tmp))
        load_s = time.perf_counter() - started
        assert not ruleset.problems, ruleset.problems[:3]
        eval_s, matches = evaluate_only(url, ruleset, args.batch)
        factory = db.make_session_factory(db.get_engine(url))
        load_before = os.getloadavg()[0]
        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        result = drain(factory, ruleset, new_worker_id(), args.batch)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        drain_s, drain_cpu = time.perf_counter() - started, time.process_time() - cpu
        db.dispose_engines()
    print(
        json.dumps(
            {
                "backend": "postgresql" if args.postgres else "sqlite",
                "events": result.events,
                "rules": len(ruleset.rules),
                "batch": args.batch,
                "load_rules_s": round(load_s, 3),
                "evaluate_only_s": round(eval_s, 2),
                "matches": matches,
                "drain_s": round(drain_s, 2),
                "drain_cpu_s": round(drain_cpu, 2),
                "load_average_1m_before": round(load_before, 2),
                "load_average_1m_after": round(os.getloadavg()[0], 2),
                "events_per_s": round(result.events / drain_s),
                "fired": result.fired,
                "failed": result.failed,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
