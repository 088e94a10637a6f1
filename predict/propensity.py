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
    # Chosen on validation cut-offs inside the training period (docs/benchmarks.md).
    "C": 0.1,
    "max_iter": 2000,
    "random_state": 42,
    "train_cutoffs": 4,  # monthly snapshots before the last usable one
}

# Six features, chosen by backward elimination on validation cut-offs inside the training
# period (never the test window). Fifteen overlapping recency/frequency/spend counts did
# worse there: they split one signal into collinear parts whose reasons read oddly.
FEATURES = (
    "recency_days",
    "customer_age_days",
    "order_days",
    "distinct_products",
    "units_per_line",
    "product_reach",
)
BASELINE_FEATURES = ("recency_days", "invoices")
# The baseline is the plain recency/frequency model: its own, unregularised-ish setting.
BASELINE_C = 1.0
# What `features` returns: the model's inputs, then what only the baseline reads.
COLUMNS = FEATURES + tuple(f for f in BASELINE_FEATURES if f not in FEATURES)

_TEXT = {
    "recency_days": "last order {v:.0f} days ago",
    "customer_age_days": "customer for {v:.0f} days",
    "order_days": "ordered on {v:.0f} different days",
    "distinct_products": "{v:.0f} different products bought",
    "units_per_line": "usually {v:.0f} units per product line",
    "product_reach": "its products are bought by about {v:.0f} customers each",
    "invoices": "{v:.0f} orders in total",
}


def describe(feature: str, value: float) -> str:
    """Say a propensity feature value in a rep's words."""
    if feature == "product_reach":
        # Stored as the mean log1p(buyers per product); say it as a typical count.
        value = float(np.expm1(value))
    return _TEXT[feature].format(v=value)


def features(lines: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Return one row per customer with `COLUMNS`, from lines dated before `cutoff`.

    `units_per_line` (median quantity per line) separates wholesalers, who restock, from
    one-off gift buyers. `product_reach` is the mean over the customer's lines of
    log1p(distinct customers who bought that product before the cut-off): buyers of the
    shop's staple lines come back more often than buyers of rarities.
    """
    past = lines[lines["date"] < cutoff]
    bought = past[~past["cancelled"]]
    invoices = (
        bought.groupby(["customer", "invoice"], sort=False)
        .agg(date=("date", "min"), value=("amount", "sum"))
        .reset_index()
    )
    by_customer = invoices.groupby("customer")
    buyers = bought.groupby("product")["customer"].nunique()
    by_line = bought.groupby("customer")
    out = pd.DataFrame(
        {
            "recency_days": (cutoff - by_customer["date"].max()).dt.days,
            "customer_age_days": (cutoff - by_customer["date"].min()).dt.days,
            "order_days": bought["date"].dt.normalize().groupby(bought["customer"]).nunique(),
            "distinct_products": by_line["product"].nunique(),
            "units_per_line": by_line["quantity"].median(),
            "product_reach": np.log1p(bought["product"].map(buyers))
            .groupby(bought["customer"])
            .mean(),
            "invoices": by_customer.size(),
        }
    )
    return out[list(COLUMNS)].fillna(0.0).astype(float)


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
    base = PropensityModel(columns=BASELINE_FEATURES, params={**params, "C": BASELINE_C}).fit(
        x_train, y_train
    )
    report = {
        **binary_metrics(y_test, model.predict_proba(x_test)),
        "n_train": len(x_train),
        "n_test": len(x_test),
        "test_cutoff": str(cutoff.date()),
        "positive_rate_test": round(float(y_test.mean()), 4),
        "baseline": binary_metrics(y_test, base.predict_proba(x_test)),
    }
    return model, report
