"""The replica-safe lock store, run in `.venv-rasa` against the real Redis.

The checks live in `lock_store_checks.py` (this venv cannot import rasa); this file runs them
once and turns each into a pytest result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from crm_cli.rasa_model import run_rasa_script

CHECKS = Path(__file__).with_name("lock_store_checks.py")
NAMES = [
    "created_from_endpoints",
    "upstream_waits_forever",
    "waiter_served_after_dead_ticket",
    "turns_are_serialised",
    "lost_ticket_is_replaced",
    "long_turn_keeps_its_lock",
    "renewal_failure_does_not_fail_the_turn",
]


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    try:
        redis.Redis(host="127.0.0.1", port=6379, db=7, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"REDIS NOT REACHABLE: {exc}")
    return run_rasa_script(CHECKS, timeout=300)


@pytest.mark.parametrize("name", NAMES)
def test_lock_store(results: dict[str, Any], name: str) -> None:
    assert set(results) == set(NAMES)
    assert results[name]["ok"], results[name]["detail"]
