"""The plain logistic-regression baseline every churn evaluation is compared with."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from predict import telco

DEFAULTS = {"C": 1.0, "max_iter": 2000, "random_state": 42}


def plain_logistic(config: dict | None = None) -> Pipeline:
    """One-hot categories + standardised numbers -> logistic regression, nothing else."""
    params = {**DEFAULTS, **(config or {})}
    encode = ColumnTransformer(
        [
            (
                "categories",
                OneHotEncoder(
                    categories=[list(v) for v in telco.CATEGORIES.values()],
                    handle_unknown="ignore",
                    sparse_output=False,
                    drop=None,
                ),
                list(telco.CATEGORIES),
            ),
            ("numbers", StandardScaler(with_mean=True, with_std=True), list(telco.NUMERIC)),
        ],
        remainder="drop",
    )
    model = LogisticRegression(
        C=params["C"],
        fit_intercept=True,
        max_iter=params["max_iter"],
        random_state=params["random_state"],
        solver="lbfgs",
        tol=1e-6,
    )
    return Pipeline([("encode", encode), ("model", model)])


def fit_predict(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Fit the baseline on cleaned train rows; return churn probabilities for test rows."""
    pipe = plain_logistic().fit(train[list(telco.FEATURES)], train[telco.TARGET])
    return pipe.predict_proba(test[list(telco.FEATURES)])[:, 1]
