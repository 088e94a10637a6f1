"""The Telco customer schema: columns, allowed values, validation and cleaning.

The churn model is trained on the IBM Telco churn CSV and scores CRM subscriptions that were
imported from it, so this module is the one place that says what a valid row is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from predict.errors import InputDataError

TARGET = "Churn"
ID_COLUMN = "customerID"
YES_NO = ("No", "Yes")
INTERNET_ADDON = ("No", "No internet service", "Yes")
CATEGORIES: dict[str, tuple[str, ...]] = {
    "gender": ("Female", "Male"),
    "SeniorCitizen": YES_NO,
    "Partner": YES_NO,
    "Dependents": YES_NO,
    "PhoneService": YES_NO,
    "MultipleLines": ("No", "No phone service", "Yes"),
    "InternetService": ("DSL", "Fiber optic", "No"),
    "OnlineSecurity": INTERNET_ADDON,
    "OnlineBackup": INTERNET_ADDON,
    "DeviceProtection": INTERNET_ADDON,
    "TechSupport": INTERNET_ADDON,
    "StreamingTV": INTERNET_ADDON,
    "StreamingMovies": INTERNET_ADDON,
    "Contract": ("Month-to-month", "One year", "Two year"),
    "PaperlessBilling": YES_NO,
    "PaymentMethod": (
        "Bank transfer (automatic)",
        "Credit card (automatic)",
        "Electronic check",
        "Mailed check",
    ),
}
NUMERIC = ("tenure", "MonthlyCharges", "TotalCharges")
FEATURES: tuple[str, ...] = (*CATEGORIES, *NUMERIC)
MISSING = "(missing)"


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a Telco-format CSV with every column as text (cleaning decides the types).

    Raises:
        InputDataError: the file is missing, empty or not a CSV.
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise InputDataError(f"{path}: the file is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputDataError(f"{path}: not a readable CSV ({exc})") from exc
    if frame.empty:
        raise InputDataError(f"{path}: the file has a header but no rows")
    return frame


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    column_values = frame[column]
    if pd.api.types.is_numeric_dtype(column_values):
        values = column_values.astype(float)  # from the store: NULL is already NaN
    else:
        raw = column_values.astype(object).where(column_values.notna(), "").astype(str).str.strip()
        values = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
        bad = values.isna() & (raw != "")
        if bad.any():
            example = raw[bad].iloc[0]
            raise InputDataError(
                f"column {column!r} must be numeric; {int(bad.sum())} row(s) are not, "
                f"e.g. {example!r}",
                column,
            )
    if (values < 0).any():
        raise InputDataError(f"column {column!r} must not be negative", column)
    return values.astype(float)


def _stripped_text(values: pd.Series) -> pd.Series:
    """Values as stripped text ("" for missing); each distinct value is handled once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([str(u).strip() for u in uniques] + [""], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype=object)


def _senior(raw: pd.Series) -> pd.Series:
    # The CSV writes 0/1; the CRM writes booleans. Both mean No/Yes.
    mapping = {"0": "No", "1": "Yes", "False": "No", "True": "Yes", "No": "No", "Yes": "Yes"}
    return raw.map(lambda v: mapping.get(v, v))


def clean(frame: pd.DataFrame, require_target: bool = False) -> pd.DataFrame:
    """Validate and clean Telco rows into the model's input frame.

    Handles the data's real faults: `TotalCharges` is blank for new customers (tenure 0) and
    is filled with tenure x MonthlyCharges (0 for them); stray spaces are stripped; the
    0/1 `SeniorCitizen` becomes No/Yes like every other flag. Categories outside the known
    values are kept as they are, and at scoring time an empty category becomes `MISSING`:
    the model treats both as unseen, it does not crash. Training data must be complete.

    Args:
        frame: rows with the Telco columns (extra columns are ignored).
        require_target: training data must have a Yes/No `Churn` column.

    Returns:
        A frame with `FEATURES` (categoricals as str, numerics as float) and, when present,
        `Churn` as 0/1 ints, indexed like the input.

    Raises:
        InputDataError: empty input, a missing column, a non-numeric number or a bad target;
            the message names the column.
    """
    if frame is None or len(frame) == 0:
        raise InputDataError("no rows to read")
    needed = [*FEATURES, TARGET] if require_target else list(FEATURES)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputDataError(f"missing column(s): {', '.join(missing)}", missing[0])
    out = pd.DataFrame(index=frame.index)
    for column in CATEGORIES:
        text = _stripped_text(frame[column])
        out[column] = _senior(text) if column == "SeniorCitizen" else text
        if (out[column] == "").any():
            if require_target:
                raise InputDataError(f"column {column!r} has empty values", column)
            # At scoring time a missing value is one more unseen category, not a crash.
            out.loc[out[column] == "", column] = MISSING
    for column in NUMERIC:
        out[column] = _numeric(frame, column)
    for column in ("tenure", "MonthlyCharges"):
        if out[column].isna().any():
            raise InputDataError(f"column {column!r} has empty values", column)
    blank_total = out["TotalCharges"].isna()
    out.loc[blank_total, "TotalCharges"] = (
        out.loc[blank_total, "tenure"] * out.loc[blank_total, "MonthlyCharges"]
    )
    if TARGET in frame.columns:
        target = frame[TARGET].astype(str).str.strip().map({"No": 0, "Yes": 1, "0": 0, "1": 1})
        if target.isna().any():
            if require_target:
                raise InputDataError(f"column {TARGET!r} must be Yes or No", TARGET)
        else:
            out[TARGET] = target.astype(int)
    if require_target and out[TARGET].nunique() < 2:
        raise InputDataError(f"column {TARGET!r} needs both Yes and No rows to train", TARGET)
    return out


def unknown_categories(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Return, per column, values the model has never seen (they score as 'unseen')."""
    found: dict[str, list[str]] = {}
    for column, allowed in CATEGORIES.items():
        extra = sorted(set(frame[column].unique()) - set(allowed))
        if extra:
            found[column] = extra
    return found
