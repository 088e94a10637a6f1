"""Model registry under `var/models/`: one folder per model name, one per version.

Each version folder holds `model.skops` (the estimator state, loaded only after an
untrusted-types check), `manifest.json` (version, input data hash, metrics, feature list,
created at) and `card.md` (a model card for people). `LATEST` names the current version.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from predict.errors import ModelNotFoundError, UntrustedModelError

REPO_ROOT = Path(__file__).resolve().parent.parent

# Types a model file may contain beyond skops' defaults. Anything else is refused on load.
ALLOWED_EXTRA_TYPES = frozenset(
    {
        "numpy.dtype",
        "numpy.float64",
        "numpy.int64",
        "sklearn.cluster._kmeans.KMeans",
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._encoders.OneHotEncoder",
        "sklearn.utils._bunch.Bunch",
        "builtins.slice",
    }
)


def models_dir() -> Path:
    """Return the registry root: `CRM_MODELS_DIR`, else `<repo>/var/models`."""
    env = os.environ.get("CRM_MODELS_DIR", "").strip()
    return Path(env) if env else REPO_ROOT / "var" / "models"


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, read in 1 MiB blocks (large CSVs stay out of memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What a trained model is: enough to reproduce it and to refuse misuse.

    Attributes:
        name: model name, e.g. "churn".
        version: unique version string, `<name>-<UTC timestamp>-<data hash prefix>`.
        data_sha256: SHA-256 of the training input (file bytes or a canonical dump).
        data_source: where the data came from (path or "crm_store").
        metrics: validation figures measured at training time.
        features: input columns the model needs, in order.
        params: the estimator settings used (defaults merged with config).
        created_at: ISO-8601 UTC time of training.
        extra: model-specific facts (e.g. segment names, schema of the store).
    """

    name: str
    version: str
    data_sha256: str
    data_source: str
    metrics: dict[str, Any]
    features: list[str]
    params: dict[str, Any]
    created_at: str
    extra: dict[str, Any] = field(default_factory=dict)


def new_version(name: str, data_sha256: str) -> str:
    """Return a version string that sorts by time and names its data."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{name}-{stamp}-{data_sha256[:8]}"


def save(manifest: Manifest, state: dict[str, Any], card: str, root: Path | None = None) -> Path:
    """Write a model version and mark it as the latest.

    Args:
        manifest: the model's manifest.
        state: plain data and scikit-learn estimators (what skops can persist safely).
        card: the Markdown model card.
        root: registry root (default `models_dir()`).

    Returns:
        The version folder.
    """
    import skops.io as sio  # slow to import (~1 s); only needed when saving or loading

    base = (root or models_dir()) / manifest.name
    folder = base / manifest.version
    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(state, folder / "model.skops")
    (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2, default=str))
    (folder / "card.md").write_text(card)
    # Write LATEST last, atomically, so a reader never sees a half-written version.
    tmp = base / "LATEST.tmp"
    tmp.write_text(manifest.version)
    tmp.replace(base / "LATEST")
    return folder


def _version_folder(name: str, version: str | None, root: Path | None) -> Path:
    base = (root or models_dir()) / name
    if version is None:
        latest = base / "LATEST"
        if not latest.exists():
            raise ModelNotFoundError(
                f"no trained '{name}' model in {base.parent}; run `crm predict train {name}`"
            )
        version = latest.read_text().strip()
    folder = base / version
    if not (folder / "model.skops").exists():
        raise ModelNotFoundError(f"model version {version!r} not found in {base}")
    return folder


def load(
    name: str, version: str | None = None, root: Path | None = None
) -> tuple[Manifest, dict[str, Any]]:
    """Load a model version (default: the latest), refusing unexpected types.

    Returns:
        The manifest and the persisted state.

    Raises:
        ModelNotFoundError: nothing trained under that name or version.
        UntrustedModelError: the file holds types outside the allow-list.
    """
    import skops.io as sio

    folder = _version_folder(name, version, root)
    path = folder / "model.skops"
    untrusted = sio.get_untrusted_types(file=path)
    refused = sorted(set(untrusted) - ALLOWED_EXTRA_TYPES)
    if refused:
        raise UntrustedModelError(f"{path} holds types that are not allowed: {', '.join(refused)}")
    state = sio.load(path, trusted=sorted(untrusted))
    manifest = Manifest(**json.loads((folder / "manifest.json").read_text()))
    return manifest, state


def list_versions(name: str, root: Path | None = None) -> list[Manifest]:
    """Return every stored version of a model, oldest first."""
    base = (root or models_dir()) / name
    if not base.exists():
        return []
    found = [Manifest(**json.loads(p.read_text())) for p in sorted(base.glob("*/manifest.json"))]
    return sorted(found, key=lambda m: m.created_at)


def model_card(manifest: Manifest, intended_use: str, caveats: list[str]) -> str:
    """Render a short Markdown model card from a manifest."""
    lines = [
        f"# Model card: {manifest.name}",
        "",
        f"- **Version:** `{manifest.version}`",
        f"- **Trained:** {manifest.created_at}",
        f"- **Data:** `{manifest.data_source}` (SHA-256 `{manifest.data_sha256}`)",
        "",
        "## Intended use",
        intended_use,
        "",
        "## Features",
        *[f"- `{f}`" for f in manifest.features],
        "",
        "## Metrics (validation at training time)",
        *[f"- {k}: {v}" for k, v in manifest.metrics.items()],
        "",
        "## Parameters",
        *[f"- `{k}` = `{v}`" for k, v in manifest.params.items()],
        "",
        "## Caveats",
        *[f"- {c}" for c in caveats],
        "",
    ]
    return "\n".join(lines)
