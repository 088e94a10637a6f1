"""CRM_ENV=production refuses default or missing secrets; the demo needs none."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from crm_cli.main import app
from crm_store.errors import InvalidInputError
from crm_store.production import production_problems, require_production_secrets

GOOD = {
    "CRM_ENV": "production",
    "CRM_DATABASE_URL": "postgresql+psycopg://crm:k3Yv9-long-random@db:5432/crm",
    "CRM_REDIS_URL": "redis://:Zq81-long-random@redis:6379/0",
    "CRM_METRICS_TOKEN": "m-7c1d0e9f2b",
}


def test_demo_needs_no_secrets() -> None:
    assert production_problems({}) == []
    assert production_problems({"CRM_ENV": "demo", "CRM_DATABASE_URL": "sqlite:///x"}) == []


def test_good_production_settings_pass() -> None:
    assert production_problems(GOOD) == []
    require_production_secrets(GOOD)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"CRM_DATABASE_URL": ""}, "CRM_DATABASE_URL is unset"),
        ({"CRM_DATABASE_URL": "sqlite:///var/crm.sqlite3"}, "must be PostgreSQL"),
        ({"CRM_DATABASE_URL": "postgresql://crm:postgres@db/crm"}, "database password"),
        ({"CRM_DATABASE_URL": "postgresql://crm@db/crm"}, "database password"),
        ({"CRM_REDIS_URL": "redis://redis:6379/0"}, "Redis password"),
        ({"CRM_REDIS_URL": "redis://:changeme@redis:6379/0"}, "Redis password"),
        ({"CRM_METRICS_TOKEN": "secret"}, "CRM_METRICS_TOKEN"),
        ({"CRM_SLACK_SIGNING_SECRET": "ChangeMe"}, "CRM_SLACK_SIGNING_SECRET"),
    ],
)
def test_each_default_is_refused_by_name(change: dict[str, str], problem: str) -> None:
    env = {**GOOD, **change}
    with pytest.raises(InvalidInputError, match=problem) as caught:
        require_production_secrets(env)
    assert "k3Yv9" not in str(caught.value)  # never echo a secret


def test_the_api_and_the_rules_worker_refuse_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from channels.app import create_app

    for name, value in {**GOOD, "CRM_DATABASE_URL": "sqlite:///x.sqlite3"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(InvalidInputError, match="must be PostgreSQL"):
        create_app()
    result = CliRunner().invoke(app, ["rules", "run", "--once"])
    assert result.exit_code == 2 and "CRM_ENV=production" in result.stderr
