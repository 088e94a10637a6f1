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

from crm_store.models import Order, OrderLine, OrderStatus, Product, Subscription
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


def _key(name: str) -> str:
    return name.replace("_", "").lower()


_SERVICE_BY_KEY = {_key(c): c for c in SERVICE_COLUMNS}


def _service_value(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return "" if value is None else str(value)


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


def subscription_frame(session: Session, account_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Return Telco-shaped rows (strings as in the CSV) indexed by account id.

    Raises:
        SchemaMismatchError: a subscription lacks a service value the model needs.
    """
    columns = [getattr(Subscription, c) for c in TYPED_COLUMNS]
    query = select(Subscription.account_id, Subscription.services, *columns)
    if account_ids is not None:
        query = query.where(Subscription.account_id.in_(list(account_ids)))
    result = session.execute(query)
    frame = pd.DataFrame(result.all(), columns=["account_id", "services", *TYPED_COLUMNS.values()])
    frame = frame.set_index("account_id")
    services = _services_frame(frame.pop("services"))
    frame = pd.concat([frame, services], axis=1)
    for column in _FLAG_COLUMNS:
        frame[column] = frame[column].map({True: "Yes", False: "No"})
    for column in telco.NUMERIC:
        frame[column] = frame[column].astype(float)
    return frame


def _services_frame(services: pd.Series) -> pd.DataFrame:
    records = [s if isinstance(s, dict) else json.loads(s or "{}") for s in services]
    raw = pd.DataFrame.from_records(records, index=services.index)
    raw.columns = [_SERVICE_BY_KEY.get(_key(str(c)), str(c)) for c in raw.columns]
    raw = raw.loc[:, ~raw.columns.duplicated()]
    missing = [c for c in SERVICE_COLUMNS if c not in raw.columns]
    if missing and len(raw):
        raise SchemaMismatchError(
            f"subscription 'services' lacks key(s) {', '.join(missing)} the churn model reads"
        )
    out = pd.DataFrame(index=services.index)
    for column in SERVICE_COLUMNS:
        values = raw[column] if column in raw.columns else pd.Series(dtype=object)
        out[column] = [_service_value(v) for v in values.reindex(services.index)]
    return out


def reasons_json(
    contributions: np.ndarray, rows: pd.DataFrame, features: Sequence[str], per_side: int = 3
) -> list[str]:
    """Serialise the top raising and lowering reasons of each row as JSON text.

    Returns:
        One JSON array per row: up to `per_side` positive effects (largest first), then up to
        `per_side` negative ones (most negative first); entries are
        `{"feature", "value", "effect"}` with effect in log-odds.
    """
    order = np.argsort(-contributions, axis=1)
    values = {f: rows[f].astype(str).to_numpy() for f in features}
    out = []
    for i in range(len(rows)):
        row_order, row_c = order[i], contributions[i]
        picks = [j for j in row_order[:per_side] if row_c[j] > 0]
        picks += [j for j in row_order[::-1][:per_side] if row_c[j] < 0]
        out.append(
            json.dumps(
                [
                    {
                        "feature": features[j],
                        "value": values[features[j]][i],
                        "effect": round(float(row_c[j]), 6),
                    }
                    for j in picks
                ]
            )
        )
    return out


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
