"""Churn model: calibrated logistic regression with exact additive reasons.

Why this model: on the Telco data it matches gradient boosting and random forests within
cross-validation noise (see docs/benchmarks.md), and its log-odds are a sum of one term per
input, so each reason is the model's own arithmetic, not an approximation.

Output = sigmoid(A * (w . z + c) + B): `z` is the design row (one-hot categories, tenure bands,
standardised numbers), `w, c` the logistic regression, `A, B` the Platt calibration fitted on
out-of-fold scores. The contribution of input feature `f` is
`A * sum_{j in f} w_j * (z_j - mean_j)`; adding all contributions to the base
`A * (w . mean + c) + B` gives the calibrated log-odds exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from predict import telco

DEFAULTS: dict[str, Any] = {
    "C": 0.3,
    "max_iter": 2000,
    "tol": 1e-6,
    "calibration_folds": 5,
    # Upper edges (months, inclusive) of tenure bands: new customers churn far more.
    "tenure_bands": [2, 6, 12, 24, 48],
    "random_state": 42,
}

# Derived design columns that belong to each numeric input feature.
_NUMERIC_PARTS: dict[str, tuple[str, ...]] = {
    "tenure": ("tenure", "log_tenure"),
    "MonthlyCharges": ("MonthlyCharges",),
    "TotalCharges": ("log_TotalCharges",),
}


def _logistic(C: float, params: dict[str, Any]) -> LogisticRegression:
    # Every parameter written out, so a scikit-learn upgrade cannot change the model silently.
    return LogisticRegression(
        C=C,
        class_weight=None,
        dual=False,
        fit_intercept=True,
        intercept_scaling=1.0,
        l1_ratio=0.0,
        max_iter=params["max_iter"],
        random_state=params["random_state"],
        solver="lbfgs",
        tol=params["tol"],
        verbose=0,
        warm_start=False,
    )


def _band_labels(edges: list[int]) -> list[str]:
    labels, low = [], 0
    for high in edges:
        labels.append(f"{low}-{high}")
        low = high + 1
    return [*labels, f"{low}+"]


@dataclass
class Design:
    """A design matrix plus the input feature each column belongs to."""

    matrix: np.ndarray
    columns: list[str]
    groups: np.ndarray  # index into telco.FEATURES, one per column


class ChurnModel:
    """Calibrated churn classifier over cleaned Telco rows (see `predict.telco.clean`)."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = {**DEFAULTS, **(config or {})}
        self.scaler_mean: np.ndarray | None = None
        self.scaler_scale: np.ndarray | None = None
        self.design_mean: np.ndarray | None = None
        self.coef: np.ndarray | None = None
        self.intercept: float = 0.0
        self.platt_a: float = 1.0
        self.platt_b: float = 0.0

    # -- design --------------------------------------------------------------------------
    def _raw_numeric(self, rows: pd.DataFrame) -> np.ndarray:
        tenure = rows["tenure"].to_numpy(dtype=float)
        return np.column_stack(
            [
                tenure,
                np.log1p(tenure),
                rows["MonthlyCharges"].to_numpy(dtype=float),
                np.log1p(rows["TotalCharges"].to_numpy(dtype=float)),
            ]
        )

    def design(self, rows: pd.DataFrame) -> Design:
        """Build the design matrix; unseen categories get all-zero indicators."""
        blocks, columns, groups = [], [], []
        for g, (feature, levels) in enumerate(telco.CATEGORIES.items()):
            codes = pd.Categorical(rows[feature], categories=list(levels)).codes
            block = np.zeros((len(rows), len(levels)))
            seen = codes >= 0
            block[np.flatnonzero(seen), codes[seen]] = 1.0
            blocks.append(block)
            columns += [f"{feature}={level}" for level in levels]
            groups += [g] * len(levels)
        tenure_group = telco.FEATURES.index("tenure")
        edges = self.params["tenure_bands"]
        band = np.searchsorted(np.asarray(edges, dtype=float), rows["tenure"].to_numpy(float))
        labels = _band_labels(edges)
        block = np.zeros((len(rows), len(labels)))
        block[np.arange(len(rows)), band] = 1.0
        blocks.append(block)
        columns += [f"tenure_band={label}" for label in labels]
        groups += [tenure_group] * len(labels)
        numeric = self._raw_numeric(rows)
        if self.scaler_mean is None:
            self.scaler_mean = numeric.mean(axis=0)
            self.scaler_scale = numeric.std(axis=0) + 1e-12
        blocks.append((numeric - self.scaler_mean) / self.scaler_scale)
        for feature, parts in _NUMERIC_PARTS.items():
            columns += list(parts)
            groups += [telco.FEATURES.index(feature)] * len(parts)
        return Design(np.hstack(blocks), columns, np.asarray(groups))

    # -- training ------------------------------------------------------------------------
    def fit(self, rows: pd.DataFrame) -> ChurnModel:
        """Fit on cleaned rows with a 0/1 `Churn` column; calibrate on out-of-fold scores."""
        self.scaler_mean = self.scaler_scale = None
        design = self.design(rows)
        y = rows[telco.TARGET].to_numpy(dtype=int)
        oof = np.zeros(len(y))
        folds = StratifiedKFold(
            n_splits=self.params["calibration_folds"],
            shuffle=True,
            random_state=self.params["random_state"],
        )
        for train_idx, test_idx in folds.split(design.matrix, y):
            fold_model = _logistic(self.params["C"], self.params)
            fold_model.fit(design.matrix[train_idx], y[train_idx])
            oof[test_idx] = fold_model.decision_function(design.matrix[test_idx])
        # Platt scaling: a 1-D logistic fit, effectively unregularised (C large).
        platt = _logistic(1e6, self.params).fit(oof.reshape(-1, 1), y)
        self.platt_a, self.platt_b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
        final = _logistic(self.params["C"], self.params).fit(design.matrix, y)
        self.coef, self.intercept = final.coef_[0].copy(), float(final.intercept_[0])
        self.design_mean = design.matrix.mean(axis=0)
        return self

    # -- scoring -------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.coef is None:
            raise RuntimeError("ChurnModel is not fitted")

    def log_odds(self, rows: pd.DataFrame) -> np.ndarray:
        """Return the calibrated log-odds of churn for each row."""
        self._check_fitted()
        z = self.design(rows).matrix
        return self.platt_a * (z @ self.coef + self.intercept) + self.platt_b

    def predict_proba(self, rows: pd.DataFrame) -> np.ndarray:
        """Return the calibrated churn probability in [0, 1] for each row."""
        return 1.0 / (1.0 + np.exp(-self.log_odds(rows)))

    @property
    def base_log_odds(self) -> float:
        """Log-odds of an 'average' customer: where every contribution starts from."""
        self._check_fitted()
        return float(self.platt_a * (self.design_mean @ self.coef + self.intercept) + self.platt_b)

    def explain(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return calibrated log-odds and per-feature contributions.

        Works by table look-up rather than a dense design matrix (a million rows stay
        cheap): a category's contribution is its weight minus the weighted training mean of
        its indicators; an unseen category gets weight 0.

        Returns:
            `(log_odds, contributions)`: log-odds of shape (rows,), contributions of shape
            (rows, len(telco.FEATURES)) in log-odds, ordered like `telco.FEATURES`. For every
            row, `base_log_odds + contributions.sum() == log_odds` (up to float rounding).
        """
        self._check_fitted()
        weights = self.platt_a * self.coef
        centred = weights * self.design_mean
        out = np.empty((len(rows), len(telco.FEATURES)))
        col = 0
        for g, (feature, levels) in enumerate(telco.CATEGORIES.items()):
            n = len(levels)
            # Last slot (index -1 from codes) is the unseen category: weight 0.
            table = np.append(weights[col : col + n], 0.0) - centred[col : col + n].sum()
            codes = pd.Categorical(rows[feature], categories=list(levels)).codes
            out[:, g] = table[codes]
            col += n
        edges = self.params["tenure_bands"]
        n_bands = len(edges) + 1
        band = np.searchsorted(np.asarray(edges, dtype=float), rows["tenure"].to_numpy(float))
        band_table = weights[col : col + n_bands] - centred[col : col + n_bands].sum()
        col += n_bands
        numeric = (self._raw_numeric(rows) - self.scaler_mean) / self.scaler_scale
        numeric_terms = (numeric - self.design_mean[col:]) * weights[col:]
        tenure = telco.FEATURES.index("tenure")
        out[:, tenure] = band_table[band] + numeric_terms[:, 0] + numeric_terms[:, 1]
        out[:, telco.FEATURES.index("MonthlyCharges")] = numeric_terms[:, 2]
        out[:, telco.FEATURES.index("TotalCharges")] = numeric_terms[:, 3]
        return self.base_log_odds + out.sum(axis=1), out

    def contributions(self, rows: pd.DataFrame) -> np.ndarray:
        """Return per-feature log-odds contributions (see `explain`)."""
        return self.explain(rows)[1]

    # -- persistence ---------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """Return plain data that skops can persist (no custom classes)."""
        self._check_fitted()
        return {
            "params": dict(self.params),
            "scaler_mean": self.scaler_mean,
            "scaler_scale": self.scaler_scale,
            "design_mean": self.design_mean,
            "coef": self.coef,
            "intercept": self.intercept,
            "platt_a": self.platt_a,
            "platt_b": self.platt_b,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ChurnModel:
        """Rebuild a fitted model from `to_state()` output."""
        model = cls(state["params"])
        for key in ("scaler_mean", "scaler_scale", "design_mean", "coef"):
            setattr(model, key, np.asarray(state[key], dtype=float))
        model.intercept = float(state["intercept"])
        model.platt_a = float(state["platt_a"])
        model.platt_b = float(state["platt_b"])
        return model
