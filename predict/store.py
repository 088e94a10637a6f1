"""Read model inputs from the CRM store and write scores back.

Subscriptions map to Telco columns: typed columns for the customer facts, and the `services`
JSON for per-service values. `services` keys are the Telco column names ("PhoneService",
"MultipleLines", "OnlineSecurity", ...); snake_case keys ("phone_service") are read too.
Values may be the Telco strings or booleans (True -> "Yes").

Batch writes go through the driver (COPY on PostgreSQL, executemany on SQLite): the ORM
would spend most of a million-row run building objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from crm_store.models import Order, OrderLine, OrderStatus, Product
from predict import telco
from predict.errors import SchemaMismatchError

SERVICE_COLUMNS = (
    "PhoneService",
    "MultipleLines",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
)
# Subscription column -> Telco column.
TYPED_COLUMNS = {
    "gender": "gender",
    "senior_citizen": "SeniorCitizen",
    "partner": "Partner",
    "dependents": "Dependents",
    "tenure_months": "tenure",
    "contract": "Contract",
    "paperless_billing": "PaperlessBilling",
    "payment_method": "PaymentMethod",
    "internet_service": "InternetService",
    "monthly_charges": "MonthlyCharges",
    "total_charges": "TotalCharges",
    "churned": "Churn",
}
_FLAG_COLUMNS = ("SeniorCitizen", "Partner", "Dependents", "PaperlessBilling", "Churn")
SCORE_COLUMNS = ("account_id", "kind", "score", "label", "model_version", "reasons", "scored_at")


def check_schema(session: Session, features: Sequence[str]) -> None:
    """Refuse to score when the store cannot provide what a model was trained on.

    Args:
        session: an open session on the CRM store.
        features: the model's feature list (from its manifest).

    Raises:
        SchemaMismatchError: the model wants inputs this code does not map from the store,
            or the `subscriptions` table lacks a column; the message says which.
    """
    unknown = [f for f in features if f not in telco.FEATURES]
    if unknown or list(features) != list(telco.FEATURES):
        raise SchemaMismatchError(
            "model features do not match the store mapping: model wants "
            f"{list(features)}, store provides {list(telco.FEATURES)}; retrain the model"
        )
    columns = {c["name"] for c in inspect(session.connection()).get_columns("subscriptions")}
    missing = sorted({*TYPED_COLUMNS, "services", "account_id"} - columns)
    if missing:
        raise SchemaMismatchError(
            f"table 'subscriptions' lacks column(s) {', '.join(missing)} the churn model reads"
        )


# Column separator inside the packed text (ASCII unit separator: never in CRM values).
_SEP = "\x1f"
_CATEGORY_COLUMNS = tuple(
    c for c in TYPED_COLUMNS if c not in ("tenure_months", "monthly_charges", "total_charges")
)


def _select_sql(dialect: str, where: str) -> str:
    """Raw SELECT returning id, three numbers and ONE packed text per subscription.

    The packed text joins every categorical column and the `services` JSON. Customers share
    few such combinations, so Python decodes each distinct one once, and the driver moves 5
    values per row instead of 15 (fetching dominates batch scoring on SQLite).
    """
    pg = dialect == "postgresql"
    real = "DOUBLE PRECISION" if pg else "REAL"
    sep = "chr(31)" if pg else "char(31)"
    parts = [f"COALESCE(CAST({c} AS TEXT), '')" for c in (*_CATEGORY_COLUMNS, "services")]
    packed = f" || {sep} || ".join(parts)
    return (
        f"SELECT account_id, tenure_months, CAST(monthly_charges AS {real}), "
        f"CAST(total_charges AS {real}), {packed} FROM subscriptions{where}"
    )


def subscription_frame(session: Session, account_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Return Telco-shaped rows (strings as in the CSV) indexed by account id.

    Raises:
        SchemaMismatchError: a subscription lacks a service value the model needs.
    """
    connection = session.connection()
    where = ""
    if account_ids is not None:
        ids = [int(i) for i in account_ids]
        where = (
            " WHERE account_id IN (" + ", ".join(str(i) for i in ids) + ")" if ids else " WHERE 1=0"
        )
    # Plain DBAPI cursor: tuples, not Row objects.
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(_select_sql(connection.dialect.name, where))
        records = cursor.fetchall()
    finally:
        cursor.close()
    raw = pd.DataFrame(records, columns=["account_id", "tenure", "monthly", "total", "packed"])
    frame = _unpack(raw["packed"]).set_axis(raw["account_id"].to_numpy())
    frame.index.name = "account_id"
    for column, source in (
        ("tenure", "tenure"),
        ("MonthlyCharges", "monthly"),
        ("TotalCharges", "total"),
    ):
        frame[column] = pd.to_numeric(raw[source], errors="coerce").astype(float).to_numpy()
    return frame


def _unpack(packed: pd.Series) -> pd.DataFrame:
    """Decode packed texts into Telco columns, each distinct text once.

    Raises:
        SchemaMismatchError: a subscription lacks a service the churn model reads.
    """
    codes, uniques = pd.factorize(packed, use_na_sentinel=True)
    decoded = [_decode(str(u)) for u in uniques]
    names = [TYPED_COLUMNS[c] for c in _CATEGORY_COLUMNS] + list(SERVICE_COLUMNS)
    frame = pd.DataFrame(index=packed.index)
    for j, name in enumerate(names):
        frame[name] = np.array([d[j] for d in decoded] + [None], dtype=object)[codes]
    for column in SERVICE_COLUMNS:
        missing = frame[column].isna()
        if missing.any():
            raise SchemaMismatchError(
                f"subscription 'services' lacks key {column!r} the churn model reads "
                f"({int(missing.sum())} row(s))"
            )
    return frame


def _decode(text: str) -> list[str | None]:
    fields = text.split(_SEP)
    values: list[str | None] = []
    for column, value in zip(_CATEGORY_COLUMNS, fields, strict=False):
        name = TYPED_COLUMNS[column]
        if name in _FLAG_COLUMNS:
            # SQLite stores booleans as 1/0, PostgreSQL casts them to true/false.
            values.append({"1": "Yes", "true": "Yes", "0": "No", "false": "No"}.get(value))
        else:
            values.append(value or None)
    services = json.loads(fields[-1]) if fields[-1] else {}
    return values + _service_values(services if isinstance(services, dict) else {})


def _service_values(services: dict[str, Any]) -> list[str | None]:
    by_key = {str(k).replace("_", "").lower(): v for k, v in services.items()}
    out: list[str | None] = []
    for column in SERVICE_COLUMNS:
        value = by_key.get(column.lower())
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        out.append(None if value is None else str(value))
    return out


def reasons_json(
    contributions: np.ndarray, features: Sequence[str], per_side: int = 3
) -> list[str]:
    """Serialise the top raising and lowering reasons of each row as JSON text.

    A million rows share few distinct (feature, effect) pairs once effects are rounded to
    4 places (categories have one effect per value), so each distinct entry is written once
    and rows are assembled from them with NumPy object arrays (string `+` runs in C).

    Returns:
        One JSON array per row: up to `per_side` positive effects (largest first), then up to
        `per_side` negative ones (most negative first); entries are `{"feature", "effect"}`
        with effect in log-odds, rounded to 4 places.
    """
    n = contributions.shape[0]
    order = np.argsort(-contributions, axis=1, kind="stable")
    every = np.arange(n)
    out = np.full(n, "", dtype=object)
    seen = np.zeros(n, dtype=bool)
    for k in range(2 * per_side):
        picks = order[:, k] if k < per_side else order[:, per_side - 1 - k]
        effect = contributions[every, picks]
        used = effect > 0 if k < per_side else effect < 0
        tenths = np.round(effect * 1e4).astype(np.int64)
        codes, keys = pd.factorize(picks.astype(np.int64) * (1 << 40) + tenths + (1 << 39))
        table = np.array([_entry(features, int(key)) for key in keys], dtype=object)
        separator = np.where(seen & used, ", ", "").astype(object)
        out = np.where(used, out + separator + table[codes], out)
        seen |= used
    return ("[" + out + "]").tolist()


def _entry(features: Sequence[str], key: int) -> str:
    feature, tenths = divmod(key, 1 << 40)
    return json.dumps({"feature": features[feature], "effect": (tenths - (1 << 39)) / 1e4})


def write_scores(session: Session, rows: list[tuple[Any, ...]]) -> int:
    """Append score rows `(account_id, kind, score, label, model_version, reasons_json)`.

    All rows get the same `scored_at` (now, UTC). Uses COPY on PostgreSQL and a driver-level
    executemany on SQLite, inside the session's transaction.

    Returns:
        The number of rows written.
    """
    now = datetime.now(UTC)
    connection = session.connection()
    dialect = connection.dialect.name
    driver = connection.connection.driver_connection
    if dialect == "postgresql":
        stamped = [(*r, now) for r in rows]
        with driver.cursor() as cursor:
            statement = f"COPY prediction_scores ({', '.join(SCORE_COLUMNS)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in stamped:
                    copy.write_row(row)
    else:
        # Same text form SQLAlchemy's UTCDateTime writes on SQLite (naive UTC).
        stamp = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        stamped = [(*r, stamp) for r in rows]
        placeholders = ", ".join("?" for _ in SCORE_COLUMNS)
        driver.executemany(
            f"INSERT INTO prediction_scores ({', '.join(SCORE_COLUMNS)}) VALUES ({placeholders})",
            stamped,
        )
    return len(rows)


def subscription_record(row: dict[str, Any], external_ref: str) -> dict[str, Any]:
    """Map one Telco CSV row to `Subscription` column values (the importer's inverse).

    Args:
        row: raw Telco values as strings (a CSV row).
        external_ref: the subscription's id in its source, e.g. "telco:7590-VHVEG".

    Returns:
        Keyword arguments for `crm_store.models.Subscription` (without `account_id`).
    """

    def flag(value: Any) -> bool | None:
        text = str(value).strip()
        return {"Yes": True, "1": True, "No": False, "0": False}.get(text)

    def number(value: Any) -> float | None:
        text = str(value).strip()
        return float(text) if text else None

    return {
        "external_ref": external_ref,
        "gender": row["gender"],
        "senior_citizen": flag(row["SeniorCitizen"]),
        "partner": flag(row["Partner"]),
        "dependents": flag(row["Dependents"]),
        "tenure_months": int(float(row["tenure"])),
        "contract": row["Contract"],
        "paperless_billing": flag(row["PaperlessBilling"]),
        "payment_method": row["PaymentMethod"],
        "internet_service": row["InternetService"],
        "services": {c: row[c] for c in SERVICE_COLUMNS},
        "monthly_charges": number(row["MonthlyCharges"]),
        "total_charges": number(row["TotalCharges"]),
        "churned": flag(row.get("Churn", "")),
    }


def order_lines_frame(session: Session) -> pd.DataFrame:
    """The CRM's order history in `predict.retail` line shape (customer = account id).

    Cancelled and returned orders are marked `cancelled`, like "C" invoices in the retail data.
    """
    query = (
        select(
            Order.account_id,
            Order.number,
            Order.placed_at,
            Order.status,
            Product.sku,
            Product.name,
            OrderLine.quantity,
            OrderLine.unit_price,
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Product, Product.id == OrderLine.product_id)
    )
    rows = session.execute(query).all()
    columns = ["account_id", "number", "placed_at", "status", "sku", "name", "qty", "price"]
    raw = pd.DataFrame(rows, columns=columns)
    undone = {OrderStatus.cancelled.value, OrderStatus.returned.value}
    return (
        pd.DataFrame(
            {
                "customer": raw["account_id"].astype(str),
                "invoice": raw["number"].astype(str),
                "date": pd.to_datetime(raw["placed_at"], utc=True).dt.tz_localize(None),
                "product": raw["sku"].astype(str).str.upper(),
                "description": raw["name"].astype(str),
                "quantity": raw["qty"].astype(float),
                "amount": raw["qty"].astype(float) * raw["price"].astype(float),
                "cancelled": raw["status"].map(lambda s: str(getattr(s, "value", s)) in undone),
            }
        )
        .sort_values("date", kind="stable")
        .reset_index(drop=True)
    )
