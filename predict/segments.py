"""Customer segments: RFM features, k-means, names that survive retraining.

k is chosen by the best silhouette score over `k_range` (computed on a fixed-seed sample).
Cluster numbers from k-means are arbitrary, so each cluster is named by matching its centre
to fixed prototype points in standardised log-RFM space (Hungarian assignment, one name per
cluster). A customer keeps the same name when the model is retrained on similar data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

DEFAULTS: dict[str, Any] = {
    "k_range": [3, 4, 5, 6, 7, 8],
    "n_init": 10,
    "max_iter": 300,
    "silhouette_sample": 3000,
    "random_state": 42,
}
RFM = ("recency_days", "frequency", "monetary")

# Prototype centres (z-scores of log recency, log frequency, log monetary) and playbooks.
PROTOTYPES: dict[str, tuple[tuple[float, float, float], str]] = {
    "Champions": (
        (-1.0, 1.5, 1.5),
        "Recent, frequent, high spend. Thank them, offer early access and referrals; "
        "do not discount.",
    ),
    "Loyal customers": (
        (-0.4, 0.7, 0.7),
        "Buy often. Upsell complementary products and invite them to a loyalty tier.",
    ),
    "New customers": (
        (-1.0, -0.8, -0.6),
        "First orders just placed. Onboard: welcome call, show best sellers, ask for feedback.",
    ),
    "Promising": (
        (-0.3, -0.1, -0.1),
        "Recent with some history. Recommend bought-together products to grow the basket.",
    ),
    "Needs attention": (
        (0.4, 0.0, 0.0),
        "Average value, slipping. Reach out with a personal check-in and a relevant offer.",
    ),
    "At risk": (
        (0.9, 0.8, 0.8),
        "Used to buy a lot, not lately. Call now: find out why, offer a win-back incentive.",
    ),
    "Hibernating": (
        (0.9, -0.7, -0.7),
        "Few, old, small orders. Low-cost reactivation email; do not spend rep time.",
    ),
    "Lost": (
        (1.6, -1.0, -1.0),
        "No order for a long time. Include in seasonal campaigns only.",
    ),
}


def playbook(name: str) -> str:
    """Return the short playbook for a segment name."""
    return PROTOTYPES[name][1]


def rfm(lines: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Recency (days), frequency (orders) and monetary (net spend) per customer."""
    as_of = as_of or lines["date"].max() + pd.Timedelta(days=1)
    past = lines[(lines["date"] < as_of) & ~lines["cancelled"]]
    grouped = past.groupby("customer")
    return pd.DataFrame(
        {
            "recency_days": (as_of - grouped["date"].max()).dt.days.astype(float),
            "frequency": grouped["invoice"].nunique().astype(float),
            "monetary": grouped["amount"].sum().clip(lower=0).astype(float),
        }
    )


def _space(frame: pd.DataFrame) -> np.ndarray:
    return np.log1p(frame[list(RFM)].to_numpy(dtype=float).clip(min=0))


@dataclass
class SegmentModel:
    """Scaler + k-means + a name per cluster."""

    params: dict[str, Any]
    scaler: StandardScaler | None = None
    kmeans: KMeans | None = None
    names: list[str] | None = None
    silhouettes: dict[int, float] | None = None

    def fit(self, frame: pd.DataFrame) -> SegmentModel:
        """Choose k by silhouette, cluster, and name clusters by their nearest prototype."""
        self.params = {**DEFAULTS, **self.params}
        if len(frame) < max(self.params["k_range"]) + 1:
            raise ValueError(f"need more than {max(self.params['k_range'])} customers to segment")
        self.scaler = StandardScaler(copy=True, with_mean=True, with_std=True)
        z = self.scaler.fit_transform(_space(frame))
        self.silhouettes = {}
        fitted: dict[int, KMeans] = {}
        for k in self.params["k_range"]:
            fitted[k] = self._kmeans(k).fit(z)
            self.silhouettes[k] = round(
                float(
                    silhouette_score(
                        z,
                        fitted[k].labels_,
                        sample_size=min(self.params["silhouette_sample"], len(z)),
                        random_state=self.params["random_state"],
                    )
                ),
                4,
            )
        best = max(self.silhouettes, key=lambda k: (self.silhouettes[k], -k))
        self.kmeans = fitted[best]
        self.names = name_clusters(self.kmeans.cluster_centers_)
        return self

    def _kmeans(self, k: int) -> KMeans:
        return KMeans(
            n_clusters=k,
            init="k-means++",
            n_init=self.params["n_init"],
            max_iter=self.params["max_iter"],
            tol=1e-4,
            algorithm="lloyd",
            random_state=self.params["random_state"],
        )

    def predict(self, frame: pd.DataFrame) -> list[str]:
        """Return the segment name of each customer row."""
        clusters = self.kmeans.predict(self.scaler.transform(_space(frame)))
        return [self.names[c] for c in clusters]


def name_clusters(centres: np.ndarray) -> list[str]:
    """Give each cluster centre a distinct prototype name, minimising total distance."""
    names = list(PROTOTYPES)
    points = np.array([PROTOTYPES[n][0] for n in names])
    cost = ((centres[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    assigned = [""] * len(centres)
    for r, c in zip(rows, cols, strict=True):
        assigned[r] = names[c]
    return assigned
