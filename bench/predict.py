"""Batch churn scoring of N generated customers, writes included.

Setup (not timed): a fresh migrated database, N accounts with Telco-like subscriptions
generated from the real training rows (categories resampled per column, numbers jittered),
and a churn model trained on train.csv into a temporary registry. Timed: one call of
`predict.service.batch_score_churn(workers=2)`: this process reads every subscription and
checks the schema, two forked workers clean, score and build reasons chunk by chunk, and
this process writes one `PredictionScore` row per customer as chunks finish; then the commit.

    .venv/bin/python bench/predict.py --customers 1000000
    .venv/bin/python bench/predict.py --customers 1000000 --database-url postgresql://postgres@127.0.0.1/DB

Prints one JSON line (last line of stdout).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

# This file is named like the package it measures; drop its folder from the import path so
# `import predict` finds the package, not this script.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from crm_store import db, migrate  # noqa: E402
from crm_store.models import Account, PredictionScore, Subscription  # noqa: E402
from predict import service, store, telco, training  # noqa: E402

TELCO = Path("/work/shared/datasets/telco_churn/train.csv")


def generate(n: int, seed: int = 7) -> pd.DataFrame:
    """N synthetic Telco rows: each column sampled from the real rows, numbers jittered."""
    rng = np.random.default_rng(seed)
    real = pd.read_csv(TELCO, dtype=str, keep_default_na=False)
    picks = rng.integers(0, len(real), size=n)
    out = real.iloc[picks].reset_index(drop=True)
    # Keep rows internally consistent (services go with internet type) by resampling whole
    # rows, then perturb the numbers so no two customers are identical.
    tenure = out["tenure"].astype(int).to_numpy() + rng.integers(-2, 3, size=n)
    out["tenure"] = np.clip(tenure, 0, 72).astype(str)
    monthly = out["MonthlyCharges"].astype(float).to_numpy() * rng.uniform(0.95, 1.05, size=n)
    out["MonthlyCharges"] = np.round(monthly, 2).astype(str)
    out["TotalCharges"] = np.round(monthly * np.maximum(tenure, 0), 2).astype(str)
    out["customerID"] = [f"GEN-{i:07d}" for i in range(n)]
    return out


def populate(url: str, rows: pd.DataFrame, chunk: int = 100_000) -> None:
    """Insert accounts and subscriptions through Core bulk inserts (setup, untimed)."""
    now = datetime.now(UTC)
    engine = db.get_engine(url)
    for start in range(0, len(rows), chunk):
        part = rows.iloc[start : start + chunk]
        ids = range(start + 1, start + 1 + len(part))
        accounts = [
            {"id": i, "name": f"Customer {i}", "external_ref": f"gen:{i}", "created_at": now}
            for i in ids
        ]
        subs = []
        for i, row in zip(ids, part.to_dict("records"), strict=True):
            record = store.subscription_record(row, f"telco:{row['customerID']}")
            subs.append({"account_id": i, "imported_at": now, **record})
        with engine.begin() as connection:
            connection.execute(Account.__table__.insert(), accounts)
            connection.execute(Subscription.__table__.insert(), subs)
        print(f"setup: {start + len(part):,} customers", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2, help="scoring processes (2 cores)")
    parser.add_argument(
        "--database-url", default=None, help="empty database (default: temp SQLite)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        migrate.upgrade(url)
        root = Path(tmp) / "models"
        manifest = training.train("churn", data=TELCO, root=root)
        populate(url, generate(args.customers))
        service.load_churn(root)  # model file read once, as in a long-running job
        started, cpu_started = time.perf_counter(), time.process_time()
        with db.session_scope(url) as session:
            report = service.batch_score_churn(session, root=root, workers=args.workers)
        seconds = time.perf_counter() - started
        # CPU seconds of this process (workers not included): on a shared machine, wall time
        # also counts waiting for a core.
        cpu_seconds = time.process_time() - cpu_started
        with db.session_scope(url) as session:
            written = session.scalar(select(func.count()).select_from(PredictionScore))
        db.get_engine(url).dispose()
    result = {
        "customers": args.customers,
        "workers": args.workers,
        "written": written,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "rows_per_s": round(written / seconds),
        "database": url.split(":", 1)[0],
        "model_version": manifest.version,
        "holdout_roc_auc": manifest.metrics["holdout"]["roc_auc"],
        "features": len(telco.FEATURES),
        "skipped": report.skipped,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
