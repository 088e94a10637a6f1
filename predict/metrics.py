"""Binary-classification figures used by every evaluation, computed one way."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score


def binary_metrics(y_true: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """Return ROC AUC, PR AUC (average precision), Brier score and log loss.

    Returns:
        Figures rounded to 4 places; ROC/PR AUC are NaN when only one class is present.
    """
    y = np.asarray(y_true, dtype=int)
    p = np.clip(np.asarray(probability, dtype=float), 1e-15, 1 - 1e-15)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": round(float(roc_auc_score(y, p)), 4) if both else float("nan"),
        "pr_auc": round(float(average_precision_score(y, p)), 4) if both else float("nan"),
        "brier": round(float(brier_score_loss(y, p)), 4),
        "log_loss": round(float(log_loss(y, p, labels=[0, 1])), 4),
    }
