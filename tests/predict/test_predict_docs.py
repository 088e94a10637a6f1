"""docs/predict.md stays honest: every public service function and CLI command is in it."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from crm_cli.predict import app
from predict import service

DOC = (Path(__file__).resolve().parents[2] / "docs" / "predict.md").read_text()
PUBLIC = [
    name
    for name, fn in inspect.getmembers(service, inspect.isfunction)
    if fn.__module__ == service.__name__ and not name.startswith("_")
    and name not in ("load_churn", "load_rules", "owned_products")
]  # fmt: skip


@pytest.mark.parametrize("name", PUBLIC)
def test_service_function_is_documented(name: str) -> None:
    assert f"service.{name}(" in DOC


@pytest.mark.parametrize("command", [c.name for c in app.registered_commands])
def test_cli_command_is_documented(command: str) -> None:
    assert f"crm predict {command}" in DOC
