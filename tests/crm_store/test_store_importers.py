"""Importers on small slices of the real data sets, plus malformed files."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.importers import ImportFormatError, ImportReport
from crm_store.importers.retail import import_retail
from crm_store.importers.telco import import_telco
from crm_store.models import (
    Account,
    AccountStatus,
    Contact,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Subscription,
)
from crm_store.queries.users import create_user

DATASETS = Path("/work/shared/datasets")
TELCO = DATASETS / "telco_churn" / "train.csv"
RETAIL = DATASETS / "online_retail" / "online_retail.csv.gz"
pytestmark = pytest.mark.skipif(
    not (TELCO.exists() and RETAIL.exists()), reason="shared data sets not present"
)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def reps(session: Session) -> list[int]:
    """Two reps to own imported accounts round-robin."""
    return [create_user(session=session, email=f"r{i}@x.example", role="rep")[0].id for i in (1, 2)]


@pytest.fixture
def telco_slice(tmp_path: Path) -> Path:
    """The header, the first 40 customers, one with a blank TotalCharges, and bad rows."""
    lines = TELCO.read_text(encoding="utf-8").splitlines()
    blank = next(line for line in lines if ", ," in line or ",," in line)
    bad = [
        ",Male,0,No,No,1,Yes,No,DSL,No,No,No,No,No,No,Month-to-month,Yes,Mailed,20,20,No",
        "9999-BADTN,Male,0,No,No,abc,Yes,No,DSL,No,No,No,No,No,No,One year,Yes,Mailed,20,20,No",
        "9999-BADMC,Male,0,No,No,3,Yes,No,DSL,No,No,No,No,No,No,One year,Yes,Mailed,x,20,No",
    ]
    path = tmp_path / "telco.csv"
    path.write_text("\n".join([lines[0], *lines[1:41], blank, *bad]) + "\n", encoding="utf-8")
    return path


def test_telco_import_and_reimport(session: Session, reps: list[int], telco_slice: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    report = import_telco(session, telco_slice, progress=lambda *a: seen.append(a))
    assert report.rows_read == 44 and report.created["accounts"] == 41
    assert dict(report.skipped) == {"no_customer_id": 1, "bad_tenure": 1, "bad_monthly_charges": 1}
    assert report.notes["total_charges_blank"] == 1
    assert seen and seen[-1] == ("subscriptions", 41, 41)
    sub = session.scalars(select(Subscription).where(Subscription.total_charges.is_(None))).one()
    assert sub.tenure_months == 0 and sub.contract == "Two year" and sub.churned is False
    first = session.scalars(
        select(Subscription).where(Subscription.external_ref == "telco:7486-KSRVI")
    ).one()
    assert (first.monthly_charges, first.total_charges) == (Decimal("100.00"), Decimal("4211.55"))
    assert first.services["StreamingTV"] == "Yes" and first.internet_service == "Fiber optic"
    assert first.churned is True and first.account.status is AccountStatus.churned
    owners = list(session.scalars(select(Account.owner_id).order_by(Account.id)))
    assert set(owners) == set(reps) and owners[:2] == reps
    again = import_telco(session, telco_slice)
    assert again.created["accounts"] == 0 and again.updated["subscriptions"] == 41
    assert (_count(session, Account), _count(session, Contact), _count(session, Subscription)) == (
        41, 41, 41)  # fmt: skip


def test_telco_limit(session: Session) -> None:
    report = import_telco(session, TELCO, limit=25)
    assert report.rows_read == 25 and _count(session, Subscription) == 25
    assert all(a.owner_id is None for a in session.scalars(select(Account)))  # no reps yet


@pytest.fixture
def retail_slice(tmp_path: Path) -> Path:
    rows = [
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
        "536365,85123A,HEART HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,UK",
        "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,UK",
        "536366,85123A,HEART HOLDER,2,2010-12-02 09:00:00,2.65,13047.0,France",
        "C536379,85123A,HEART HOLDER,-1,2010-12-03 09:41:00,2.55,17850.0,UK",
        "536370,22728,ALARM CLOCK,24,2010-12-01 08:45:00,3.75,,UK",
        "A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,12346.0,UK",
        "536371,22729,CLOCK,0,2010-12-01 08:45:00,3.75,12346.0,UK",
        "536372,22730,CLOCK,1,2010-12-01 08:45:00,-3.75,12346.0,UK",
        "536373,22731,CLOCK,1,yesterday,3.75,12346.0,UK",
    ]  # fmt: skip
    path = tmp_path / "retail.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(rows) + "\n")
    return path


def test_retail_slice_statuses_and_skips(
    session: Session, reps: list[int], retail_slice: Path
) -> None:
    report = import_retail(session, retail_slice)
    assert report.rows_read == 9
    assert dict(report.skipped) == {"no_customer_id": 1, "bad_invoice_number": 1,
                                    "bad_quantity": 1, "bad_price": 1, "bad_date": 1}  # fmt: skip
    assert (report.created["orders"], report.created["order_lines"]) == (3, 4)
    orders = {o.number: o for o in session.scalars(select(Order))}
    assert set(orders) == {"ORD-536365", "ORD-536366", "ORD-536379"}
    assert orders["ORD-536379"].status is OrderStatus.cancelled
    assert orders["ORD-536365"].status is OrderStatus.delivered
    assert orders["ORD-536365"].total == Decimal("35.64")  # 6 * 2.55 + 6 * 3.39
    assert orders["ORD-536365"].currency == "GBP"
    assert orders["ORD-536379"].lines[0].quantity == 1
    account = orders["ORD-536366"].account
    assert (account.external_ref, account.country) == ("retail:13047", "France")
    product = session.scalars(select(Product).where(Product.sku == "85123A")).one()
    assert product.unit_price == Decimal("2.55")  # the latest price seen


def test_retail_reimport_updates_without_duplicates(session: Session) -> None:
    first = import_retail(session, RETAIL, limit=3000)
    counts = [_count(session, m) for m in (Product, Account, Order, OrderLine)]
    assert first.created["orders"] == counts[2] > 100 and first.skipped["no_customer_id"] > 0
    assert session.scalars(select(Order).where(Order.status == OrderStatus.cancelled)).first()
    second = import_retail(session, RETAIL, limit=3000)
    assert [_count(session, m) for m in (Product, Account, Order, OrderLine)] == counts
    assert second.created["orders"] == 0 and second.updated["orders"] == counts[2]
    lines = session.scalar(select(func.sum(OrderLine.quantity * OrderLine.unit_price)))
    totals = session.scalar(select(func.sum(Order.total)))
    assert Decimal(lines).quantize(Decimal("0.01")) == Decimal(totals)


@pytest.mark.parametrize("importer", [import_telco, import_retail])
def test_bad_files_are_refused(
    session: Session, tmp_path: Path, importer: Callable[..., ImportReport]
) -> None:
    with pytest.raises(ImportFormatError, match="file not found"):
        importer(session, tmp_path / "missing.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="missing column"):
        importer(session, wrong)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage\x81\x82")
    with pytest.raises(ImportFormatError):
        importer(session, binary)
