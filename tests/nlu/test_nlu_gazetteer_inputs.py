"""The gazetteer written before training: the CRM store's account names (both "Corp" forms)
and product names (with the forms people type)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from crm_cli.rasa_model import account_names, gazetteer_names, product_forms, product_names
from crm_store.db import session_scope
from crm_store.models import Account, Product


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


def test_products_come_from_the_store_with_spoken_forms(seeded_db_url: str) -> None:
    with session_scope(seeded_db_url) as session:
        stored = set(session.scalars(select(Product.name).where(Product.active.is_(True))))
        session.query(Product).filter(Product.name == sorted(stored)[0]).update({"active": False})
    names = set(product_names(seeded_db_url))
    assert stored - {sorted(stored)[0]} <= names
    assert sorted(stored)[0] not in names  # a product no longer sold is not looked for
    bracketed = next(n for n in stored if "(" in n and n != sorted(stored)[0])
    assert bracketed.split(" (")[0] in names


def test_product_forms_drop_billing_qualifiers() -> None:
    forms = product_forms(["Analytics add-on (annual)", "API call pack, 1M calls", "Kiosk"])
    assert forms == sorted(
        [
            "Analytics add-on (annual)",
            "Analytics add-on",
            "API call pack, 1M calls",
            "API call pack",
            "Kiosk",
        ]
    )


def test_one_store_read_gives_both_lists(seeded_db_url: str) -> None:
    names = gazetteer_names(seeded_db_url)
    assert set(names) == {"account", "product"}
    assert names["account"] == account_names(seeded_db_url)
    assert names["product"] and names["product"] == product_names(seeded_db_url)
