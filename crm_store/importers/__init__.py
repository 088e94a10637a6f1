"""Importers for public data sets: IBM Telco churn and UCI Online Retail.

Both are idempotent (a re-import updates rows, never duplicates them), insert in batches,
report what they read, created, updated and skipped, and accept a progress callback.
"""

from crm_store.importers.common import ImportFormatError, ImportReport, ProgressFn

__all__ = ["ImportFormatError", "ImportReport", "ProgressFn"]
