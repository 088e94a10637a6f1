"""The store's `crm` commands, through Typer's runner, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from crm_cli.main import app
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.models import Order, Subscription, User
from crm_store.queries.users import authenticate_token

runner = CliRunner()
DATASETS = Path("/work/shared/datasets")


def _crm(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _one_line_error(result: Result, text: str) -> None:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and text in errors[0], result.stderr


def test_users_add_prints_the_token_last(db_url: str) -> None:
    result = _crm("users", "add", "--email", "Nina@Example.com", "--role", "manager",
                  "--team", "Enterprise", "--name", "Nina", "--database-url", db_url)  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    with session_scope(db_url) as session:
        user = authenticate_token(session=session, token=token)
        assert user is not None and (user.email, user.name) == ("nina@example.com", "Nina")
        assert user.team is not None and user.team.name == "Enterprise"


def test_users_add_bad_input(db_url: str) -> None:
    _one_line_error(
        _crm(
            "users", "add", "--email", "x@example.com", "--role", "boss", "--database-url", db_url
        ),
        "unknown role",
    )
    _one_line_error(
        _crm("users", "add", "--email", "nope", "--role", "rep", "--database-url", db_url),
        "valid email",
    )
    assert _crm("users", "add", "--email", "d@example.com", "--role", "rep",
                "--database-url", db_url).exit_code == 0  # fmt: skip
    _one_line_error(
        _crm("users", "add", "--email", "d@example.com", "--role", "rep", "--database-url", db_url),
        "already exists",
    )


def test_users_add_on_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    _one_line_error(
        _crm("users", "add", "--email", "a@example.com", "--role", "rep", "--database-url", url),
        "crm db upgrade",
    )


def test_link_slack(db_url: str) -> None:
    _crm("users", "add", "--email", "s@example.com", "--role", "rep", "--database-url", db_url)
    ok = _crm("users", "link-slack", "--email", "s@example.com", "--slack-id", "U1",
              "--database-url", db_url)  # fmt: skip
    assert ok.exit_code == 0, ok.output
    _one_line_error(_crm("users", "link-slack", "--email", "who@example.com", "--slack-id", "U2",
                         "--database-url", db_url), "no user")  # fmt: skip


def test_demo_seed_and_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    first = _crm("demo", "seed", "--database-url", url)
    assert first.exit_code == 0, first.output
    assert "demo company created" in first.stdout
    assert DEMO_CREDENTIALS.rep_token in first.stdout
    assert DEMO_CREDENTIALS.customer_order_number in first.stdout
    again = _crm("demo", "seed", "--database-url", url)
    assert again.exit_code == 0 and "already present" in again.stdout
    upgrade = _crm("db", "upgrade", "--database-url", url)
    assert upgrade.exit_code == 0 and "revision" in upgrade.stdout
    with session_scope(url) as session:
        assert session.scalar(select(func.count(User.id))) >= 14


@pytest.mark.skipif(not DATASETS.exists(), reason="shared data sets not present")
def test_imports(db_url: str) -> None:
    telco = _crm("import", "telco", str(DATASETS / "telco_churn" / "train.csv"), "--limit", "30",
                 "--database-url", db_url)  # fmt: skip
    assert telco.exit_code == 0, telco.output
    assert "read 30 rows" in telco.stdout
    retail = _crm("import", "retail", str(DATASETS / "online_retail" / "online_retail.csv.gz"),
                  "--limit", "2000", "--database-url", db_url)  # fmt: skip
    assert retail.exit_code == 0, retail.output
    assert "read 2000 rows" in retail.stdout and "no_customer_id" in retail.stdout
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count(Subscription.id))) == 30
        assert session.scalar(select(func.count(Order.id))) > 10


def test_import_bad_files(db_url: str, tmp_path: Path) -> None:
    _one_line_error(_crm("import", "telco", str(tmp_path / "none.csv"), "--database-url", db_url),
                    "file not found")  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n", encoding="utf-8")
    _one_line_error(_crm("import", "retail", str(bad), "--database-url", db_url),
                    "missing column")  # fmt: skip
    assert _crm("import", "retail", str(bad), "--limit", "0").exit_code != 0
