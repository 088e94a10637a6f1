"""Exactly once under concurrency and crashes: real PostgreSQL, real threads and processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crm_store import db
from crm_store.models import CrmEvent, Notification, RuleFiring, utcnow
from rules.engine import BatchResult, drain
from rules.loader import RuleSet, load_rules

REPO = Path(__file__).resolve().parents[2]
RULES = """\
rules:
  - name: every-lead
    owner: ops@example.com
    trigger: lead_created
    actions:
      - notify: {to: "#leads", message: "lead event {event.id}"}
  - name: web-leads
    owner: ops@example.com
    trigger: lead_created
    conditions:
      - event.source == "web_chat"
    actions:
      - notify: {to: "#web", message: "web lead {event.id}"}
"""


def _events(url: str, count: int) -> None:
    """Insert `count` pending lead events, every other one from the web chat."""
    now = utcnow()
    rows = [
        {
            "type": "lead_created",
            "subject_type": "lead",
            "subject_id": None,
            "payload": {"source": "web_chat" if i % 2 == 0 else "import"},
            "status": "pending",
            "occurred_at": now,
        }
        for i in range(count)
    ]
    with db.session_scope(url) as session:
        for start in range(0, count, 5000):
            session.execute(insert(CrmEvent), rows[start : start + 5000])


def _ruleset(tmp_path: Path) -> tuple[RuleSet, Path]:
    path = tmp_path / "workers.yml"
    path.write_text(RULES)
    ruleset = load_rules(path)
    assert not ruleset.problems
    return ruleset, path


def _check_exactly_once(session: Session, count: int) -> None:
    """Every event done; each rule fired once per matching event, actions once per firing."""
    stmt = select(RuleFiring.rule_name, func.count(func.distinct(RuleFiring.event_id)))
    per_rule = {name: n for name, n in session.execute(stmt.group_by(RuleFiring.rule_name))}
    assert per_rule == {"every-lead": count, "web-leads": count // 2}
    assert session.scalar(select(func.count()).select_from(RuleFiring)) == count + count // 2
    assert session.scalar(select(func.count()).select_from(Notification)) == count + count // 2
    pending = select(func.count()).where(CrmEvent.status != "done")
    assert session.scalar(pending) == 0


@pytest.mark.parametrize("db_kind", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_four_workers_share_20k_events_without_duplicates(db_url: str, tmp_path: Path) -> None:
    count = 20_000
    _events(db_url, count)
    ruleset, _ = _ruleset(tmp_path)
    factory = db.make_session_factory(db.get_engine(db_url))
    results: dict[int, BatchResult] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = drain(factory, ruleset, f"w{i}", batch_size=250)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sum(r.events for r in results.values()) == count
    assert sum(r.events > 0 for r in results.values()) >= 2, "the workers did not share"
    with factory() as session:
        _check_exactly_once(session, count)
        by_worker = session.scalars(select(func.count(func.distinct(RuleFiring.worker))))
        assert by_worker.one() >= 2
    assert time.monotonic() - started < 60


def _worker(url: str, rules: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CRM_DATABASE_URL": url}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crm_cli.main",
            "rules",
            "run",
            "--rules",
            str(rules),
            "--no-schedule",
            "--batch",
            "100",
            "--poll",
            "0.2",
            *args,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _done(url: str) -> int:
    with db.session_scope(url) as session:
        return session.scalar(select(func.count()).where(CrmEvent.status == "done"))


def test_a_killed_worker_loses_and_repeats_nothing(db_url: str, tmp_path: Path) -> None:
    count = 6_000
    _events(db_url, count)
    _, rules = _ruleset(tmp_path)
    worker = _worker(db_url, rules)
    deadline = time.monotonic() + 60
    while _done(db_url) < 500 and time.monotonic() < deadline:
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)  # mid-run: no chance to clean up
    worker.wait(timeout=10)
    done_at_kill = _done(db_url)
    assert 0 < done_at_kill < count, "the kill should land while events remain"
    restarted = _worker(db_url, rules, "--once")
    out, err = restarted.communicate(timeout=90)
    assert restarted.returncode == 0, err.decode()
    assert f"events {count - done_at_kill}," in out.decode()
    with db.session_scope(db_url) as session:
        _check_exactly_once(session, count)
