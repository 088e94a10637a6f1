"""Fixtures for the prediction tests: small slices of the real data sets and a private model
registry. Databases (`session` on SQLite and PostgreSQL) come from `tests/conftest.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from predict import retail, telco

TELCO_CSV = Path("/work/shared/datasets/telco_churn/train.csv")


@pytest.fixture(scope="session")
def telco_raw() -> pd.DataFrame:
    """The first 600 rows of the Telco training file, as text (like the CSV)."""
    return pd.read_csv(TELCO_CSV, dtype=str, keep_default_na=False, nrows=600)


@pytest.fixture(scope="session")
def telco_rows(telco_raw: pd.DataFrame) -> pd.DataFrame:
    """The same rows, cleaned."""
    return telco.clean(telco_raw, require_target=True)


@pytest.fixture(scope="session")
def retail_lines() -> pd.DataFrame:
    """Order lines from the first 60,000 rows of Online Retail (about two months)."""
    return retail.read_csv(retail.DEFAULT_PATH, nrows=60_000)


@pytest.fixture
def models_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty registry; CRM_MODELS_DIR points at it so the CLI uses it too."""
    root = tmp_path / "models"
    monkeypatch.setenv("CRM_MODELS_DIR", str(root))
    return root


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Tiny matrices on a shared 2-core machine: extra BLAS threads only add contention."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
