"""Import the IBM Telco customer churn CSV: each customer becomes an account, a contact
and a subscription (every source column kept, blank TotalCharges as NULL)."""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from crm_store.importers.common import (
    ImportFormatError,
    ImportReport,
    ProgressFn,
    Stopwatch,
    batched,
    check_file,
    id_map,
    rep_ids,
    report_progress,
    require_columns,
)
from crm_store.models import Account, AccountStatus, Contact, Subscription, utcnow

REF_PREFIX = "telco:"
SERVICE_COLUMNS = (
    "PhoneService", "MultipleLines", "OnlineSecurity", "OnlineBackup", "DeviceProtection",
    "TechSupport", "StreamingTV", "StreamingMovies",
)  # fmt: skip
REQUIRED = (
    "customerID", "gender", "SeniorCitizen", "Partner", "Dependents", "tenure",
    "InternetService", "Contract", "PaperlessBilling", "PaymentMethod", "MonthlyCharges",
    "TotalCharges", *SERVICE_COLUMNS,
)  # fmt: skip


class _BadRow(ValueError):
    """A row that cannot be imported; the message is the skip reason."""


def _yes(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text in ("yes", "1", "true"):
        return True
    if text in ("no", "0", "false"):
        return False
    return None


def _number(value: str | None, field: str, *, blank_ok: bool = False) -> Decimal | None:
    text = (value or "").strip()
    if not text and blank_ok:
        return None
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise _BadRow(f"bad_{field}") from exc


def _parse(row: dict[str, str]) -> dict[str, Any]:
    """One CSV row as subscription values (raises _BadRow with the reason)."""
    ref = (row.get("customerID") or "").strip()
    if not ref:
        raise _BadRow("no_customer_id")
    tenure = (row.get("tenure") or "").strip()
    if not tenure.isdigit():
        raise _BadRow("bad_tenure")
    return {
        "external_ref": REF_PREFIX + ref,
        "gender": (row.get("gender") or "").strip() or None,
        "senior_citizen": _yes(row.get("SeniorCitizen")),
        "partner": _yes(row.get("Partner")),
        "dependents": _yes(row.get("Dependents")),
        "tenure_months": int(tenure),
        "contract": (row.get("Contract") or "").strip() or None,
        "paperless_billing": _yes(row.get("PaperlessBilling")),
        "payment_method": (row.get("PaymentMethod") or "").strip() or None,
        "internet_service": (row.get("InternetService") or "").strip() or None,
        "services": {c: (row.get(c) or "").strip() for c in SERVICE_COLUMNS},
        "monthly_charges": _number(row.get("MonthlyCharges"), "monthly_charges"),
        "total_charges": _number(row.get("TotalCharges"), "total_charges", blank_ok=True),
        "churned": _yes(row.get("Churn")),
    }


def _read(path: Path, limit: int | None, report: ImportReport) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            require_columns(reader.fieldnames or [], REQUIRED, path)
            for row in reader:
                if limit is not None and report.rows_read >= limit:
                    break
                report.rows_read += 1
                try:
                    values = _parse(row)
                except _BadRow as exc:
                    report.skipped[str(exc)] += 1
                    continue
                if values["external_ref"] in rows:
                    report.skipped["duplicate_customer_id"] += 1
                rows[values["external_ref"]] = values  # the last row of a customer wins
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"{path.name}: not a readable CSV file ({exc})") from exc
    return list(rows.values())


def _ids_by_ref(session: Session, model: type[Account] | type[Subscription]) -> dict[str, int]:
    return id_map(session, model.external_ref, model.id, model.external_ref.like(f"{REF_PREFIX}%"))


def _account_values(sub: dict[str, Any]) -> dict[str, Any]:
    status = AccountStatus.churned if sub["churned"] else AccountStatus.active
    return {"external_ref": sub["external_ref"], "status": status}


def _create_accounts(session: Session, new: list[dict[str, Any]], report: ImportReport) -> None:
    reps = rep_ids(session)
    now = utcnow()
    rows = [
        {
            **_account_values(sub),
            "name": f"Telco customer {sub['external_ref'][len(REF_PREFIX) :]}",
            "industry": "Consumer telecom",
            "country": "United States",
            "owner_id": reps[i % len(reps)] if reps else None,
            "created_at": now,
        }  # fmt: skip
        for i, sub in enumerate(new)
    ]
    for batch in batched(rows):
        session.execute(insert(Account), list(batch))
    report.created["accounts"] += len(rows)


def _create_contacts(session: Session, refs: dict[str, int], report: ImportReport) -> None:
    # The data set has no names: the contact stands for "the subscriber" of the line.
    now = utcnow()
    rows = [
        {"account_id": aid, "first_name": "Subscriber", "last_name": ref[len(REF_PREFIX) :],
         "created_at": now}
        for ref, aid in refs.items()
    ]  # fmt: skip
    for batch in batched(rows):
        session.execute(insert(Contact), list(batch))
    report.created["contacts"] += len(rows)


def import_telco(
    session: Session, path: str | Path, *, limit: int | None = None,
    progress: ProgressFn | None = None,
) -> ImportReport:  # fmt: skip
    """Import or update the Telco churn customers from `path` (the caller commits).

    Args:
        limit: read at most this many data rows.
        progress: called as progress(stage, done, total).

    Raises:
        ImportFormatError: missing file, unreadable CSV, or missing columns.
    """
    file = check_file(path)
    report = ImportReport(source=f"telco {file.name}")
    watch = Stopwatch(report)
    subs = _read(file, limit, report)
    report.notes["total_charges_blank"] = sum(1 for s in subs if s["total_charges"] is None)
    existing = _ids_by_ref(session, Account)
    new = [s for s in subs if s["external_ref"] not in existing]
    _create_accounts(session, new, report)
    accounts = _ids_by_ref(session, Account)
    _create_contacts(session, {s["external_ref"]: accounts[s["external_ref"]] for s in new}, report)
    _update_accounts(session, [s for s in subs if s["external_ref"] in existing], existing, report)
    _upsert_subscriptions(session, subs, accounts, report, progress)
    return watch.stop()


def _update_accounts(
    session: Session, subs: list[dict[str, Any]], ids: dict[str, int], report: ImportReport
) -> None:
    rows = [{"id": ids[s["external_ref"]], **_account_values(s)} for s in subs]
    for batch in batched(rows):
        session.execute(update(Account), list(batch))
    report.updated["accounts"] += len(rows)


def _upsert_subscriptions(
    session: Session, subs: list[dict[str, Any]], accounts: dict[str, int],
    report: ImportReport, progress: ProgressFn | None,
) -> None:  # fmt: skip
    existing = _ids_by_ref(session, Subscription)
    now = utcnow()
    done = 0
    for batch in batched(subs):
        fresh = [{**s, "account_id": accounts[s["external_ref"]], "imported_at": now}
                 for s in batch if s["external_ref"] not in existing]  # fmt: skip
        known = [{**s, "id": existing[s["external_ref"]], "imported_at": now}
                 for s in batch if s["external_ref"] in existing]  # fmt: skip
        if fresh:
            session.execute(insert(Subscription), fresh)
        if known:
            session.execute(update(Subscription), known)
        report.created["subscriptions"] += len(fresh)
        report.updated["subscriptions"] += len(known)
        done += len(batch)
        report_progress(progress, "subscriptions", done, len(subs))
