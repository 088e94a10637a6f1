"""Refuse to start in production with a default or missing secret.

`CRM_ENV=production` (docker-compose.yml sets it) means real customers' data: the store must be
PostgreSQL with a password of its own, and every secret that is set must not be one of the
well-known defaults people forget to change. The demo (`CRM_ENV` unset or `demo`) runs with
none of them. Every long-running process checks at start (API, action server, rules worker),
so a bad deployment fails at once with the reason, not later with a breach.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from crm_store.errors import InvalidInputError

DEFAULT_SECRETS = frozenset({
    "", "changeme", "change-me", "password", "secret", "postgres", "crm", "admin", "root",
    "default", "example", "test", "demo", "letmein", "123456",
})  # fmt: skip
SECRET_VARIABLES = ("CRM_METRICS_TOKEN", "CRM_SLACK_SIGNING_SECRET", "CRM_SLACK_BOT_TOKEN")


def production_problems(env: dict[str, str] | None = None) -> list[str]:
    """What makes this environment unfit for production; empty when fine or not production."""
    env = dict(os.environ if env is None else env)
    if env.get("CRM_ENV", "demo").strip().lower() != "production":
        return []
    problems = []
    url = env.get("CRM_DATABASE_URL", "").strip()
    if not url:
        problems.append("CRM_DATABASE_URL is unset (the demo's SQLite file is not for production)")
    else:
        try:
            parsed = make_url(url)
        except Exception:  # noqa: BLE001 - any parse failure is the same problem for the operator
            problems.append("CRM_DATABASE_URL is not a database URL")
        else:
            if parsed.get_backend_name() != "postgresql":
                problems.append("CRM_DATABASE_URL must be PostgreSQL in production")
            elif (parsed.password or "").lower() in DEFAULT_SECRETS:
                problems.append("the database password is missing or a well-known default")
    redis = env.get("CRM_REDIS_URL", "").strip()
    if redis:
        try:
            password = urlsplit(redis).password or ""
        except ValueError:
            password = ""
        if password.lower() in DEFAULT_SECRETS:
            problems.append("the Redis password in CRM_REDIS_URL is missing or a default")
    for name in SECRET_VARIABLES:
        value = env.get(name)
        if value is not None and value.strip().lower() in DEFAULT_SECRETS:
            problems.append(f"{name} is set to a well-known default")
    return problems


def require_production_secrets(env: dict[str, str] | None = None) -> None:
    """Raise with every problem at once when `CRM_ENV=production` and a secret is unfit.

    Raises:
        InvalidInputError: naming each variable to fix (never its value).
    """
    problems = production_problems(env)
    if problems:
        raise InvalidInputError("refusing to start with CRM_ENV=production: " + "; ".join(problems))
