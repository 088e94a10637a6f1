"""How the propensity features were chosen: validation cut-offs inside the training period.

The test window (2011-09-01 + 90 days) is never used for choosing. Each validation cut-off
V (2011-05-04, 2011-06-03) is scored by a model trained on the monthly cut-offs from
January whose 90-day label windows end on or before V; candidates are compared on the mean
validation ROC AUC. `--test` then scores the chosen candidates once at the test cut-off
with the usual training cut-offs (what `crm predict evaluate propensity` does).

Candidates: the recency/frequency baseline, the 15 features shipped before 30 Nov 2026
(rebuilt here, they left `predict.propensity`), the shipped six, and the six plus a BG/NBD
"probability alive" (Fader, Hardie & Lee 2005, fitted by maximum likelihood at each
cut-off on that cut-off's history, no labels).

    .venv/bin/python bench/propensity_select.py [--test]

Prints one JSON line (last line of stdout); progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# bench/predict.py sits beside this file; drop this folder from the import path so
# `import predict` finds the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.special import gammaln, logit  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from predict import propensity, retail  # noqa: E402

HORIZON = 90
VALIDATION = ("2011-05-04", "2011-06-03")
TEST = "2011-09-01"
OLD_15 = (
    "recency_days", "customer_age_days", "invoices", "monetary", "avg_basket",
    "distinct_products", "invoices_30d", "invoices_90d", "invoices_180d", "spend_90d",
    "returns", "mean_gap_days", "active_months", "last_gap_days", "overdue_ratio",
)  # fmt: skip
CANDIDATES: dict[str, tuple[tuple[str, ...], float]] = {
    "baseline": (propensity.BASELINE_FEATURES, propensity.BASELINE_C),
    "old_15": (OLD_15, 1.0),
    "old_15_C0.1": (OLD_15, 0.1),
    "shipped_6": (propensity.FEATURES, propensity.DEFAULTS["C"]),
    "shipped_6_plus_p_alive": ((*propensity.FEATURES, "p_alive"), propensity.DEFAULTS["C"]),
}


def old_features(lines: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The 15 features of the model shipped before 30 Nov 2026 (all before `cutoff`)."""
    past = lines[lines["date"] < cutoff]
    bought = past[~past["cancelled"]]
    inv = (
        bought.groupby(["customer", "invoice"], sort=False)
        .agg(date=("date", "min"), value=("amount", "sum"))
        .reset_index()
    )
    by = inv.groupby("customer")
    out = pd.DataFrame(
        {
            "monetary": by["value"].sum().clip(lower=0),
            "avg_basket": by["value"].mean().clip(lower=0),
        }
    )
    for days in (30, 90, 180):
        recent = inv[inv["date"] >= cutoff - pd.Timedelta(days=days)]
        out[f"invoices_{days}d"] = recent.groupby("customer").size()
        if days == 90:
            out["spend_90d"] = recent.groupby("customer")["value"].sum().clip(lower=0)
    out["returns"] = past[past["cancelled"]].groupby("customer").size()
    out = out.fillna(0.0)
    age, rec = (cutoff - by["date"].min()).dt.days, (cutoff - by["date"].max()).dt.days
    out["mean_gap_days"] = (age - rec) / np.maximum(by.size() - 1, 1)
    out["active_months"] = (
        inv.assign(m=inv["date"].dt.to_period("M")).groupby("customer")["m"].nunique()
    )
    ordered = inv.sort_values("date", kind="stable")
    gap = (ordered["date"] - ordered.groupby("customer")["date"].shift(1)).dt.days
    last = ordered.assign(gap=gap).groupby("customer").tail(1).set_index("customer")["gap"]
    out["last_gap_days"] = last.fillna(365.0)
    out["overdue_ratio"] = rec / np.maximum(out["mean_gap_days"], 1.0)
    return out.fillna(0.0)


def p_alive(lines: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
    """BG/NBD probability that each customer is still active at `cutoff` (time in weeks)."""
    past = lines[(lines["date"] < cutoff) & ~lines["cancelled"]]
    days = past["date"].dt.normalize().groupby(past["customer"]).agg(["min", "max", "nunique"])
    x = (days["nunique"] - 1).to_numpy(float)  # repeat purchase days
    tx = ((days["max"] - days["min"]).dt.days / 7).to_numpy(float)
    big_t = ((cutoff - days["min"]).dt.days / 7).to_numpy(float)

    def nll(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        head += gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        alive = -(r + x) * np.log(alpha + big_t)
        dead = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-9)) - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
        return float(-(head + np.logaddexp(alive, dead)).sum())

    start = np.log([0.5, 5.0, 0.5, 2.0])
    fit = minimize(nll, start, method="Nelder-Mead", options={"maxiter": 4000})
    r, alpha, a, b = np.exp(fit.x)
    odds_dead = np.where(
        x > 0, a / np.maximum(b + x - 1, 1e-9) * ((alpha + big_t) / (alpha + tx)) ** (r + x), 0.0
    )
    return pd.Series(1.0 / (1.0 + odds_dead), index=days.index)


def frame(lines: pd.DataFrame, cutoff: pd.Timestamp, memo: dict) -> pd.DataFrame:
    """Every candidate column plus the label `y` at one cut-off (memoised)."""
    if cutoff not in memo:
        print(f"features at {cutoff.date()}", file=sys.stderr, flush=True)
        f = propensity.features(lines, cutoff)
        f = f.join(old_features(lines, cutoff))
        f["p_alive"] = p_alive(lines, cutoff)
        f["y"] = propensity.labels(lines, f.index, cutoff, HORIZON)
        memo[cutoff] = f.fillna(0.0)
    return memo[cutoff]


def design(f: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """log1p of counts and amounts (like the model); logit of the BG/NBD probability."""
    parts = []
    for c in columns:
        v = f[c].to_numpy(float)
        parts.append(logit(np.clip(v, 1e-6, 1 - 1e-6)) if c == "p_alive" else np.log1p(v.clip(0)))
    return np.column_stack(parts)


def auc(train: pd.DataFrame, test: pd.DataFrame, columns: tuple[str, ...], c: float) -> float:
    """Fit the logistic regression on `train`, return ROC AUC on `test`."""
    x = design(train, columns)
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=3000, tol=1e-6).fit(scaler.transform(x), train["y"])
    score = model.decision_function(scaler.transform(design(test, columns)))
    return round(float(roc_auc_score(test["y"], score)), 4)


def monthly_before(cutoff: pd.Timestamp, n: int) -> list[pd.Timestamp]:
    """`propensity.training_cutoffs`: n monthly cut-offs whose label windows end by `cutoff`."""
    return propensity.training_cutoffs(cutoff, {"horizon_days": HORIZON, "train_cutoffs": n})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", action="store_true", help="also score at the test cut-off")
    args = parser.parse_args()
    lines = retail.read_csv(retail.DEFAULT_PATH)
    memo: dict = {}
    report: dict = {"validation": {}, "test": {}}
    for v in map(pd.Timestamp, VALIDATION):
        cuts = [c for c in monthly_before(v, 5) if c >= pd.Timestamp("2011-01-01")]
        train = pd.concat([frame(lines, c, memo) for c in cuts])
        held = frame(lines, v, memo)
        for name, (cols, c) in CANDIDATES.items():
            report["validation"].setdefault(name, []).append(auc(train, held, cols, c))
    for name, values in report["validation"].items():
        report["validation"][name] = {"by_cutoff": values, "mean": round(float(np.mean(values)), 4)}
    if args.test:
        test = pd.Timestamp(TEST)
        train = pd.concat([frame(lines, c, memo) for c in monthly_before(test, 4)])
        held = frame(lines, test, memo)
        for name, (cols, c) in CANDIDATES.items():
            report["test"][name] = auc(train, held, cols, c)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
