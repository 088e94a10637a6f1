"""Purchase propensity: probability that a customer buys in the next 90 days.

Features are computed from order history strictly before a cut-off date; the label is "any
purchase in [cut-off, cut-off + horizon)". Training stacks several monthly cut-offs whose
label windows end before the test cut-off, so nothing from the test period leaks in.
A logistic regression on log-scaled features keeps reasons exact (additive log-odds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from predict.metrics import binary_metrics

DEFAULTS: dict[str, Any] = {
    "horizon_days": 90,
    "C": 1.0,
    "max_iter": 2000,
    "random_state": 42,
    "train_cutoffs": 4,  # monthly snapshots before the last usable one
}

FEATURES = (
    "recency_days",
    "customer_age_days",
    "invoices",
    "monetary",
    "avg_basket",
    "distinct_products",
    "invoices_30d",
    "invoices_90d",
    "invoices_180d",
    "spend_90d",
    "returns",
    "mean_gap_days",
    "active_months",
    "last_gap_days",
    "overdue_ratio",
)
BASELINE_FEATURES = ("recency_days", "invoices")

_TEXT = {
    "recency_days": "last order {v:.0f} days ago",
    "customer_age_days": "customer for {v:.0f} days",
    "invoices": "{v:.0f} orders in total",
    "monetary": "total spend {v:,.0f}",
    "avg_basket": "average order {v:,.0f}",
    "distinct_products": "{v:.0f} different products bought",
    "invoices_30d": "{v:.0f} orders in the last 30 days",
    "invoices_90d": "{v:.0f} orders in the last 90 days",
    "invoices_180d": "{v:.0f} orders in the last 180 days",
    "spend_90d": "spend {v:,.0f} in the last 90 days",
    "returns": "{v:.0f} cancelled or returned lines",
    "mean_gap_days": "orders every {v:.0f} days on average",
    "active_months": "bought in {v:.0f} different months",
    "last_gap_days": "{v:.0f} days between the last two orders",
    "overdue_ratio": "{v:.1f}x its usual gap since the last order",
}
# A customer with one order has no gap yet: use a long one (about a year).
NO_GAP_DAYS = 365.0


def describe(feature: str, value: float) -> str:
    """Say a propensity feature value in a rep's words."""
    return _TEXT[feature].format(v=value)


def features(lines: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Return one row per customer with `FEATURES`, from lines dated before `cutoff`."""
    past = lines[lines["date"] < cutoff]
    bought = past[~past["cancelled"]]
    invoices = (
        bought.groupby(["customer", "invoice"], sort=False)
        .agg(date=("date", "min"), value=("amount", "sum"))
        .reset_index()
    )
    by_customer = invoices.groupby("customer")
    out = pd.DataFrame(
        {
            "recency_days": (cutoff - by_customer["date"].max()).dt.days,
            "customer_age_days": (cutoff - by_customer["date"].min()).dt.days,
            "invoices": by_customer.size(),
            "monetary": by_customer["value"].sum().clip(lower=0),
            "avg_basket": by_customer["value"].mean().clip(lower=0),
            "distinct_products": bought.groupby("customer")["product"].nunique(),
        }
    )
    for days in (30, 90, 180):
        recent = invoices[invoices["date"] >= cutoff - pd.Timedelta(days=days)]
        out[f"invoices_{days}d"] = recent.groupby("customer").size()
        if days == 90:
            out["spend_90d"] = recent.groupby("customer")["value"].sum().clip(lower=0)
    out["returns"] = past[past["cancelled"]].groupby("customer").size()
    out = out.fillna(0.0).astype(float)
    out["mean_gap_days"] = (out["customer_age_days"] - out["recency_days"]) / np.maximum(
        out["invoices"] - 1, 1
    )
    out["active_months"] = (
        invoices.assign(month=invoices["date"].dt.to_period("M"))
        .groupby("customer")["month"]
        .nunique()
    )
    ordered = invoices.sort_values("date", kind="stable")
    previous = ordered.groupby("customer")["date"].shift(1)
    last = ordered.assign(gap=(ordered["date"] - previous).dt.days).groupby("customer").tail(1)
    out["last_gap_days"] = last.set_index("customer")["gap"].fillna(NO_GAP_DAYS)
    out["overdue_ratio"] = out["recency_days"] / np.maximum(out["mean_gap_days"], 1.0)
    return out[list(FEATURES)].fillna(0.0)


def labels(lines: pd.DataFrame, customers: pd.Index, cutoff: pd.Timestamp, days: int) -> np.ndarray:
    """1 if the customer placed a (non-cancelled) order in [cutoff, cutoff + days)."""
    window = lines[
        (lines["date"] >= cutoff)
        & (lines["date"] < cutoff + pd.Timedelta(days=days))
        & ~lines["cancelled"]
    ]
    return customers.isin(window["customer"].unique()).astype(int)


def _transform(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    return np.log1p(frame[list(columns)].to_numpy(dtype=float).clip(min=0))


@dataclass
class PropensityModel:
    """Scaled log-features -> logistic regression; reasons are exact log-odds terms."""

    columns: tuple[str, ...] = FEATURES
    params: dict[str, Any] | None = None
    scaler: StandardScaler | None = None
    model: LogisticRegression | None = None

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> PropensityModel:
        """Fit on a features frame and 0/1 labels."""
        self.params = {**DEFAULTS, **(self.params or {})}
        x = _transform(frame, self.columns)
        self.scaler = StandardScaler(copy=True, with_mean=True, with_std=True).fit(x)
        self.model = LogisticRegression(
            C=self.params["C"],
            fit_intercept=True,
            max_iter=self.params["max_iter"],
            random_state=self.params["random_state"],
            solver="lbfgs",
            tol=1e-6,
        ).fit(self.scaler.transform(x), y)
        return self

    def explain(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
        """Return (log-odds, contributions per feature, base log-odds).

        Contributions are `w_j * z_j` on standardised features (z has training mean 0), so
        base + row sum == log-odds exactly.
        """
        z = self.scaler.transform(_transform(frame, self.columns))
        terms = z * self.model.coef_[0]
        base = float(self.model.intercept_[0])
        return base + terms.sum(axis=1), terms, base

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the probability of a purchase within the horizon, in [0, 1]."""
        return 1.0 / (1.0 + np.exp(-self.explain(frame)[0]))


def training_cutoffs(test_cutoff: pd.Timestamp, params: dict[str, Any]) -> list[pd.Timestamp]:
    """Monthly cut-offs whose label windows end on or before `test_cutoff`."""
    last = test_cutoff - pd.Timedelta(days=params["horizon_days"])
    return [last - pd.DateOffset(months=i) for i in range(params["train_cutoffs"])][::-1]


def stacked(lines: pd.DataFrame, cutoffs: list[pd.Timestamp], days: int):
    """Features and labels for several cut-offs, stacked (a customer may appear per cut-off)."""
    frames, ys = [], []
    for cutoff in cutoffs:
        frame = features(lines, cutoff)
        frames.append(frame)
        ys.append(labels(lines, frame.index, cutoff, days))
    return pd.concat(frames), np.concatenate(ys)


def evaluate(lines: pd.DataFrame, test_cutoff: str | pd.Timestamp, config: dict | None = None):
    """Time-split validation: train on cut-offs before `test_cutoff`, test at it.

    Returns:
        `(model, report)`: the model fitted on the training period and a report with the
        model's and the recency/frequency baseline's metrics on the later period.
    """
    params = {**DEFAULTS, **(config or {})}
    cutoff = pd.Timestamp(test_cutoff)
    if cutoff + pd.Timedelta(days=params["horizon_days"]) > lines["date"].max() + pd.Timedelta(
        days=1
    ):
        raise ValueError(f"test cut-off {cutoff.date()} leaves less than a full horizon of data")
    x_train, y_train = stacked(lines, training_cutoffs(cutoff, params), params["horizon_days"])
    x_test = features(lines, cutoff)
    y_test = labels(lines, x_test.index, cutoff, params["horizon_days"])
    model = PropensityModel(params=params).fit(x_train, y_train)
    base = PropensityModel(columns=BASELINE_FEATURES, params=params).fit(x_train, y_train)
    report = {
        **binary_metrics(y_test, model.predict_proba(x_test)),
        "n_train": len(x_train),
        "n_test": len(x_test),
        "test_cutoff": str(cutoff.date()),
        "positive_rate_test": round(float(y_test.mean()), 4),
        "baseline": binary_metrics(y_test, base.predict_proba(x_test)),
    }
    return model, report
