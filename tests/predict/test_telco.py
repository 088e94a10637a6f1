"""Validation and cleaning of Telco rows: the data's real faults and bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from predict import telco
from predict.errors import InputDataError


def test_blank_total_charges_filled_from_tenure(telco_raw: pd.DataFrame) -> None:
    raw = telco_raw.head(5).copy()
    raw.loc[raw.index[0], ["tenure", "TotalCharges"]] = ["0", " "]
    rows = telco.clean(raw)
    assert rows["TotalCharges"].iloc[0] == 0.0
    assert rows["TotalCharges"].notna().all()


def test_senior_citizen_becomes_yes_no(telco_rows: pd.DataFrame) -> None:
    assert set(telco_rows["SeniorCitizen"]) <= {"Yes", "No"}


@pytest.mark.parametrize("column", ["Contract", "tenure", "TotalCharges"])
def test_missing_column_is_named(telco_raw: pd.DataFrame, column: str) -> None:
    with pytest.raises(InputDataError, match=column) as info:
        telco.clean(telco_raw.drop(columns=[column]))
    assert info.value.column == column


def test_wrong_type_is_named(telco_raw: pd.DataFrame) -> None:
    raw = telco_raw.head(5).copy()
    raw.loc[raw.index[2], "MonthlyCharges"] = "lots"
    with pytest.raises(InputDataError, match="MonthlyCharges.*'lots'"):
        telco.clean(raw)


def test_bad_target_is_named(telco_raw: pd.DataFrame) -> None:
    raw = telco_raw.head(5).copy()
    raw.loc[raw.index[0], "Churn"] = "maybe"
    with pytest.raises(InputDataError, match="Churn"):
        telco.clean(raw, require_target=True)


def test_empty_file_and_header_only(tmp_path: Path, telco_raw: pd.DataFrame) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputDataError, match="empty"):
        telco.read_csv(empty)
    header = tmp_path / "header.csv"
    telco_raw.head(0).to_csv(header, index=False)
    with pytest.raises(InputDataError, match="no rows"):
        telco.read_csv(header)


def test_unknown_category_is_kept_and_reported(telco_raw: pd.DataFrame) -> None:
    raw = telco_raw.head(3).copy()
    raw.loc[raw.index[0], "Contract"] = "Three year"
    rows = telco.clean(raw)
    assert telco.unknown_categories(rows) == {"Contract": ["Three year"]}
