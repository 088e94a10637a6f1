"""Order history in one shape: lines of (customer, invoice, date, product, quantity, amount).

Loaded from the UCI Online Retail CSV, or from the CRM's orders (see `predict.store`), so
propensity, segments and recommendations never care where the history came from.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from predict.errors import InputDataError

DEFAULT_PATH = Path("/work/shared/datasets/online_retail/online_retail.csv.gz")
REQUIRED = ("InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID")
LINE_COLUMNS = ("customer", "invoice", "date", "product", "description", "quantity", "amount")


def read_csv(path: str | Path = DEFAULT_PATH, nrows: int | None = None) -> pd.DataFrame:
    """Read an Online Retail CSV (plain or .gz) and return clean order lines.

    Raises:
        InputDataError: missing file, empty file, missing column or unparsable values.
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=nrows)
    except pd.errors.EmptyDataError as exc:
        raise InputDataError(f"{path}: the file is empty") from exc
    return clean(raw)


def _number(raw: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(raw[column].str.strip(), errors="coerce")
    if values.isna().any():
        example = raw.loc[values.isna(), column].iloc[0]
        raise InputDataError(f"column {column!r} must be numeric, found {example!r}", column)
    return values


def clean(raw: pd.DataFrame) -> pd.DataFrame:
    """Turn raw Online Retail rows into order lines.

    Drops lines without a customer (guest checkouts cannot be scored) and normalises the
    float-looking ids ("17850.0" -> "17850"). Cancellations (invoice starting with "C") keep
    their negative quantities and a `cancelled` flag.

    Returns:
        Columns `LINE_COLUMNS` plus `cancelled`, sorted by date.
    """
    if raw is None or raw.empty:
        raise InputDataError("no rows to read")
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise InputDataError(f"missing column(s): {', '.join(missing)}", missing[0])
    raw = raw[raw["CustomerID"].str.strip() != ""]
    if raw.empty:
        raise InputDataError("no rows with a CustomerID", "CustomerID")
    dates = pd.to_datetime(raw["InvoiceDate"], errors="coerce", format="mixed")
    if dates.isna().any():
        example = raw.loc[dates.isna(), "InvoiceDate"].iloc[0]
        raise InputDataError(
            f"column 'InvoiceDate' has an unreadable date {example!r}", "InvoiceDate"
        )
    quantity = _number(raw, "Quantity")
    price = _number(raw, "UnitPrice")
    lines = pd.DataFrame(
        {
            "customer": raw["CustomerID"].str.strip().str.replace(r"\.0$", "", regex=True),
            "invoice": raw["InvoiceNo"].str.strip(),
            "date": dates,
            "product": raw["StockCode"].str.strip().str.upper(),
            "description": raw.get("Description", pd.Series("", index=raw.index)).str.strip(),
            "quantity": quantity,
            "amount": quantity * price,
        }
    )
    lines["cancelled"] = lines["invoice"].str.startswith("C")
    return lines.sort_values("date", kind="stable").reset_index(drop=True)


# Online Retail's lines that are charges, not goods (every such stock code in the file).
# Named rather than matched by the file's 5-digit pattern, so that a CRM's own SKUs
# ("CRM-SEAT-PRO") count as products when rules are mined from the store.
SERVICE_CODES = frozenset({"POST", "DOT", "M", "C2", "D", "CRUK", "BANK CHARGES", "PADS",
                           "AMAZONFEE", "S", "B"})  # fmt: skip


def is_product(codes: pd.Series) -> pd.Series:
    """True for goods; False for postage, manual entries, discounts, fees and gift vouchers."""
    upper = codes.str.upper()
    return ~upper.isin(SERVICE_CODES) & ~upper.str.startswith("GIFT_")
