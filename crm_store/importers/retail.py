"""Import the UCI Online Retail transactions: products by StockCode, customers by
CustomerID as accounts, invoices as orders "ORD-<invoice digits>" with their lines.

Credit notes ("C" invoices) become cancelled orders. Rows without a CustomerID cannot be
tied to an account and are skipped (and counted).
"""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from crm_store.importers.common import (
    ImportFormatError,
    ImportReport,
    ProgressFn,
    Stopwatch,
    batched,
    check_file,
    ids_for,
    rep_ids,
    report_progress,
    require_columns,
)
from crm_store.models import Account, Order, OrderLine, OrderStatus, Product, utcnow

REF_PREFIX = "retail:"
CURRENCY = "GBP"
REQUIRED = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
    "CustomerID", "Country",
)  # fmt: skip
_CENT = Decimal("0.01")


def _load(path: Path, limit: int | None) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, nrows=limit, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            gzip.BadGzipFile, EOFError, zlib.error) as exc:  # fmt: skip
        raise ImportFormatError(f"{path.name}: not a readable CSV file ({exc})") from exc
    require_columns(frame.columns, REQUIRED, path)
    return frame[list(REQUIRED)].apply(lambda col: col.str.strip())


def _dates(text: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if parsed.isna().all() and len(text):
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")  # "12/1/2010 8:26"
    return parsed


def _clean(frame: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    """Typed, valid rows; every dropped row is counted under its reason."""
    out = pd.DataFrame({
        "invoice": frame["InvoiceNo"].str.upper(),
        "sku": frame["StockCode"].str.upper(),
        "description": frame["Description"],
        "quantity": pd.to_numeric(frame["Quantity"], errors="coerce"),
        "price_text": frame["UnitPrice"],
        "price": pd.to_numeric(frame["UnitPrice"], errors="coerce"),
        "date": _dates(frame["InvoiceDate"]),
        "customer": frame["CustomerID"].str.replace(r"\.0+$", "", regex=True),
        "country": frame["Country"],
    })  # fmt: skip
    checks = (
        ("no_customer_id", out["customer"] == ""),
        ("bad_invoice_number", ~out["invoice"].str.fullmatch(r"C?\d{1,12}")),
        ("no_stock_code", out["sku"] == ""),
        ("bad_quantity", out["quantity"].isna() | (out["quantity"] == 0)),
        ("bad_price", out["price"].isna() | (out["price"] < 0)),
        ("bad_date", out["date"].isna()),
    )
    keep = pd.Series(True, index=out.index)
    for reason, bad in checks:
        hit = keep & bad.fillna(True)
        if hit.any():
            report.skipped[reason] += int(hit.sum())
        keep &= ~hit
    out = out[keep].copy()
    out["quantity"] = out["quantity"].astype("int64")
    out["date"] = out["date"].dt.tz_localize(UTC) if out["date"].dt.tz is None else out["date"]
    return out.sort_values(["date", "invoice"], kind="stable")


def _upsert(
    session: Session, model: Any, rows: list[dict[str, Any]], existing: dict[str, int],
    key: str, label: str, report: ImportReport,
) -> None:  # fmt: skip
    fresh = [r for r in rows if r[key] not in existing]
    known = [{**r, "id": existing[r[key]]} for r in rows if r[key] in existing]
    for batch in batched(fresh):
        session.execute(insert(model), list(batch))
    for batch in batched(known):
        session.execute(update(model), list(batch))
    report.created[label] += len(fresh)
    report.updated[label] += len(known)


def _products(session: Session, rows: pd.DataFrame, report: ImportReport) -> dict[str, int]:
    named = rows.assign(description=rows["description"].replace("", None))
    latest = named.groupby("sku", sort=True).agg(name=("description", "last"),
                                                  price=("price_text", "last"))  # fmt: skip
    products = [
        {"sku": sku, "name": (name or sku)[:200], "unit_price": Decimal(price).quantize(_CENT),
         "category": "Giftware", "active": True}
        for sku, name, price in latest.itertuples()
    ]  # fmt: skip
    skus = list(latest.index)
    existing = ids_for(session, Product.sku, Product.id, skus)
    _upsert(session, Product, products, existing, "sku", "products", report)
    return ids_for(session, Product.sku, Product.id, skus)


def _accounts(session: Session, rows: pd.DataFrame, report: ImportReport) -> dict[str, int]:
    countries = rows.groupby("customer", sort=True)["country"].agg(lambda c: c.mode().iat[0])
    refs = {cid: REF_PREFIX + cid for cid in countries.index}
    existing = ids_for(session, Account.external_ref, Account.id, list(refs.values()))
    reps, now = rep_ids(session), utcnow()
    accounts = []
    for cid, country in countries.items():
        row = {"external_ref": refs[cid], "country": country or None}
        if refs[cid] not in existing:
            owner = reps[len(accounts) % len(reps)] if reps else None
            row |= {"name": f"Online Retail customer {cid}", "industry": "Retail",
                    "owner_id": owner, "created_at": now}  # fmt: skip
        accounts.append(row)
    _upsert(session, Account, accounts, existing, "external_ref", "accounts", report)
    by_ref = ids_for(session, Account.external_ref, Account.id, list(refs.values()))
    return {cid: by_ref[ref] for cid, ref in refs.items()}


def _orders(
    session: Session, rows: pd.DataFrame, accounts: dict[str, int], report: ImportReport
) -> tuple[dict[str, int], list[int]]:
    """Upsert one order per invoice; returns {invoice: order id} and the updated ids."""
    value = rows["quantity"].abs() * rows["price"]
    head = rows.assign(value=value).groupby("invoice", sort=False).agg(
        customer=("customer", "first"), placed=("date", "min"), total=("value", "sum")
    )  # fmt: skip
    numbers = {inv: "ORD-" + inv.lstrip("C") for inv in head.index}
    orders = [
        {"number": numbers[inv], "account_id": accounts[cid], "placed_at": placed.to_pydatetime(),
         "status": OrderStatus.cancelled if inv.startswith("C") else OrderStatus.delivered,
         "total": Decimal(str(round(total, 2))).quantize(_CENT), "currency": CURRENCY}
        for inv, cid, placed, total in head.itertuples()
    ]  # fmt: skip
    existing = ids_for(session, Order.number, Order.id, list(numbers.values()))
    _upsert(session, Order, orders, existing, "number", "orders", report)
    by_number = ids_for(session, Order.number, Order.id, list(numbers.values()))
    return {inv: by_number[num] for inv, num in numbers.items()}, list(existing.values())


def _lines(
    session: Session, rows: pd.DataFrame, orders: dict[str, int], products: dict[str, int],
    replaced: list[int], report: ImportReport, progress: ProgressFn | None,
) -> None:  # fmt: skip
    """Replace the lines of re-imported orders and insert every line (Core executemany)."""
    for chunk in batched(replaced):
        session.execute(delete(OrderLine).where(OrderLine.order_id.in_(chunk)))
    table = OrderLine.__table__
    lines = [
        {"order_id": orders[inv], "product_id": products[sku], "quantity": abs(int(qty)),
         "unit_price": Decimal(price).quantize(_CENT)}
        for inv, sku, qty, price in zip(
            rows["invoice"], rows["sku"], rows["quantity"], rows["price_text"], strict=True
        )
    ]  # fmt: skip
    for done, batch in enumerate(batched(lines, 20_000), start=1):
        session.execute(insert(table), list(batch))
        report_progress(progress, "order lines", min(done * 20_000, len(lines)), len(lines))
    report.created["order_lines"] += len(lines)


def import_retail(
    session: Session, path: str | Path, *, limit: int | None = None,
    progress: ProgressFn | None = None,
) -> ImportReport:  # fmt: skip
    """Import or update the Online Retail data from `path` (.csv or .csv.gz); caller commits.

    Args:
        limit: read at most this many data rows (the file's first rows).
        progress: called as progress(stage, done, total).

    Raises:
        ImportFormatError: missing file, unreadable CSV, or missing columns.
    """
    file = check_file(path)
    report = ImportReport(source=f"retail {file.name}")
    watch = Stopwatch(report)
    report_progress(progress, "reading", 0, 1)
    frame = _load(file, limit)
    report.rows_read = len(frame)
    rows = _clean(frame, report)
    report_progress(progress, "reading", 1, 1)
    products = _products(session, rows, report)
    report_progress(progress, "products", 1, 1)
    accounts = _accounts(session, rows, report)
    report_progress(progress, "accounts", 1, 1)
    orders, replaced = _orders(session, rows, accounts, report)
    report_progress(progress, "orders", 1, 1)
    _lines(session, rows, orders, products, replaced, report, progress)
    return watch.stop()
