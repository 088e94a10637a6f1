"""Train a named model, validate it, and register it (manifest + card + skops file)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from predict import MODEL_NAMES, propensity, recommend, registry, retail, segments, telco
from predict.churn import DEFAULTS as CHURN_DEFAULTS
from predict.churn import ChurnModel
from predict.errors import InputDataError
from predict.evaluate import evaluate_churn_frames

Step = Callable[[str], None]
TELCO_PATH = Path("/work/shared/datasets/telco_churn/train.csv")
HOLDOUT_FRACTION = 0.2
SPLIT_SEED = 42


def _noop(_: str) -> None:
    return None


def frame_sha256(frame: pd.DataFrame) -> str:
    """Hash a frame's content (for training data that does not come from one file)."""
    return hashlib.sha256(frame.to_csv(index=True).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def train(
    name: str,
    data: str | Path | None = None,
    rows: pd.DataFrame | None = None,
    step: Step = _noop,
    root: Path | None = None,
) -> registry.Manifest:
    """Train, validate and register model `name`.

    Args:
        name: one of `MODEL_NAMES`.
        data: input file (default: the shared data set for that model).
        rows: already-loaded input instead of a file (e.g. the CRM's own history).
        step: progress callback, called with a short label before each stage.
        root: registry root (default `var/models`).

    Returns:
        The manifest of the new version (metrics included).

    Raises:
        InputDataError: unknown model name or unusable data (names the column).
    """
    trainers = {
        "churn": _train_churn,
        "propensity": _train_propensity,
        "segments": _train_segments,
        "recommendations": _train_recommendations,
    }
    if name not in trainers:
        raise InputDataError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return trainers[name](data, rows, step, root)


def _train_churn(data, rows, step: Step, root) -> registry.Manifest:
    step("read data")
    if rows is None:
        path = Path(data or TELCO_PATH)
        rows, source, digest = telco.read_csv(path), str(path), registry.file_sha256(path)
    else:
        source, digest = "crm_store", frame_sha256(rows)
    clean = telco.clean(rows, require_target=True)
    train_rows, holdout = train_test_split(
        clean, test_size=HOLDOUT_FRACTION, random_state=SPLIT_SEED, stratify=clean[telco.TARGET]
    )
    step("validate on a held-out 20 %")
    metrics = evaluate_churn_frames(train_rows, holdout, step)
    step("fit on all rows")
    model = ChurnModel().fit(clean)
    manifest = registry.Manifest(
        name="churn",
        version=registry.new_version("churn", digest),
        data_sha256=digest,
        data_source=source,
        metrics={"holdout": metrics, "split": f"stratified 80/20, random_state={SPLIT_SEED}"},
        features=list(telco.FEATURES),
        params=dict(CHURN_DEFAULTS),
        created_at=_now(),
        extra={"categories": {k: list(v) for k, v in telco.CATEGORIES.items()}},
    )
    step("save")
    card = registry.model_card(
        manifest,
        "Probability that a subscription customer churns within the next month, with the "
        "features that raise and lower it (exact log-odds contributions).",
        [
            "Trained on the IBM Telco sample (fictional customers); check it on CRM history.",
            "Unseen category values score as 'unseen' (weight 0), not as an error.",
        ],
    )
    registry.save(manifest, model.to_state(), card, root)
    return manifest


def _lines(data, rows) -> tuple[pd.DataFrame, str, str]:
    if rows is not None:
        return rows, "crm_store", frame_sha256(rows)
    path = Path(data or retail.DEFAULT_PATH)
    return retail.read_csv(path), str(path), registry.file_sha256(path)


def _train_propensity(data, rows, step: Step, root) -> registry.Manifest:
    step("read order history")
    lines, source, digest = _lines(data, rows)
    params = dict(propensity.DEFAULTS)
    end = lines["date"].max().normalize() + pd.Timedelta(days=1)
    test_cutoff = end - pd.Timedelta(days=params["horizon_days"])
    step("validate on the later period")
    _, report = propensity.evaluate(lines, test_cutoff, params)
    step("fit up to the latest full horizon")
    x, y = propensity.stacked(
        lines,
        propensity.training_cutoffs(end, params),
        params["horizon_days"],
    )
    model = propensity.PropensityModel(params=params).fit(x, y)
    manifest = registry.Manifest(
        name="propensity",
        version=registry.new_version("propensity", digest),
        data_sha256=digest,
        data_source=source,
        metrics={"time_split": report},
        features=list(propensity.FEATURES),
        params=params,
        created_at=_now(),
        extra={"scoring_as_of": str(end.date())},
    )
    step("save")
    card = registry.model_card(
        manifest,
        f"Probability that a customer orders within {params['horizon_days']} days, from "
        "order history; compared with a recency/frequency baseline on a later period.",
        [
            "Retail seasonality: the test period is autumn, when most customers buy.",
            "Features were chosen on validation cut-offs inside the training period; the "
            "issue's target of +0.03 ROC AUC over the baseline is not met (metrics above).",
        ],
    )
    registry.save(
        manifest,
        {
            "scaler": model.scaler,
            "model": model.model,
            "params": params,
            "columns": list(propensity.FEATURES),
        },
        card,
        root,
    )
    return manifest


def _train_segments(data, rows, step: Step, root) -> registry.Manifest:
    step("read order history")
    lines, source, digest = _lines(data, rows)
    step("compute RFM")
    frame = segments.rfm(lines)
    step("choose k and cluster")
    model = segments.SegmentModel(dict(segments.DEFAULTS)).fit(frame)
    labels = pd.Series(model.predict(frame))
    manifest = registry.Manifest(
        name="segments",
        version=registry.new_version("segments", digest),
        data_sha256=digest,
        data_source=source,
        metrics={
            "k": len(model.names),
            "silhouette_by_k": {str(k): v for k, v in model.silhouettes.items()},
            "sizes": {k: int(v) for k, v in labels.value_counts().items()},
        },
        features=list(segments.RFM),
        params=model.params,
        created_at=_now(),
        extra={"names": model.names, "playbooks": {n: segments.playbook(n) for n in model.names}},
    )
    step("save")
    card = registry.model_card(
        manifest,
        "RFM segments with a playbook each; k chosen by the best silhouette score.\n\n"
        + "\n".join(f"- **{n}:** {segments.playbook(n)}" for n in model.names),
        ["Names come from prototype centres, so they stay stable when retrained."],
    )
    state = {
        "scaler": model.scaler,
        "kmeans": model.kmeans,
        "names": model.names,
        "params": model.params,
    }
    registry.save(manifest, state, card, root)
    return manifest


def _train_recommendations(data, rows, step: Step, root) -> registry.Manifest:
    step("read order history")
    lines, source, digest = _lines(data, rows)
    step("mine rules")
    rules = recommend.mine_rules(lines)
    names = (
        lines[lines["description"] != ""]
        .drop_duplicates("product", keep="last")
        .set_index("product")["description"]
    )
    names = names[names.index.isin(set(rules["antecedent"]) | set(rules["consequent"]))]
    manifest = registry.Manifest(
        name="recommendations",
        version=registry.new_version("recommendations", digest),
        data_sha256=digest,
        data_source=source,
        metrics={
            "rules": len(rules),
            "antecedents": int(rules["antecedent"].nunique()),
            "median_lift": round(float(rules["lift"].median()), 2) if len(rules) else None,
        },
        features=["product"],
        params=dict(recommend.DEFAULTS),
        created_at=_now(),
    )
    step("save")
    card = registry.model_card(
        manifest,
        "Products bought together (support, confidence, lift) for cross-selling.",
        ["Pairs only (one product leads to another); rare pairs are dropped."],
    )
    state = {c: rules[c].to_numpy() for c in rules.columns}
    state["names"] = {"sku": names.index.to_numpy(dtype=str), "name": names.to_numpy(dtype=str)}
    registry.save(manifest, state, card, root)
    return manifest


def rules_from_state(state: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rebuild the rules frame and SKU -> name map from a saved recommendations state."""
    columns = ["antecedent", "consequent", "support", "confidence", "lift", "pair_baskets"]
    rules = pd.DataFrame({c: np.asarray(state[c]) for c in columns})
    names = dict(zip(state["names"]["sku"], state["names"]["name"], strict=True))
    return rules, names
