"""The gazetteer written before training: the CRM store's account names, both "Corp" forms."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from crm_cli.rasa_model import account_names
from crm_store.db import session_scope
from crm_store.models import Account


def test_names_come_from_the_store_with_dotted_forms(seeded_db_url: str) -> None:
    with session_scope(seeded_db_url) as session:
        stored = set(session.scalars(select(Account.name)))
    names = account_names(seeded_db_url)
    assert stored <= set(names)
    corp = next(n for n in stored if n.lower().endswith(" corp"))
    assert f"{corp}." in names
    assert set(names) - stored == {f"{n}." for n in stored if f"{n}." in names}


def test_missing_store_falls_back_to_the_demo_company(tmp_path: Path) -> None:
    missing = tmp_path / "absent.sqlite3"
    names = account_names(f"sqlite:///{missing}")
    assert "Acme Corp" in names and "Acme Corp." in names
    assert not missing.exists()  # looking did not create an empty database
