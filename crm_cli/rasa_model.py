"""Train the Rasa model only when its inputs change.

Training costs minutes (TensorFlow import alone is slow here), so the model file is named by a
hash of everything that shapes it and kept in two places: `var/rasa-models/` in the checkout
and a per-user cache shared by fresh clones on the same machine (CI clones anew every run).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BOT_DIR = REPO_ROOT / "bot"
RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"
GAZETTEER_PATH = REPO_ROOT / "var" / "nlu" / "gazetteer.json"  # bot/config.yml reads it

# What shapes a trained model: the project files Rasa reads, the custom components it loads
# and the exact Rasa stack. Actions run in another process and are not part of the model.
_MODEL_INPUTS = ("config.yml", "domain.yml", "domain", "data", "components")


def cache_dir() -> Path:
    """Per-user cache shared by every checkout on this machine."""
    base = os.environ.get("CRM_CACHE_DIR") or Path.home() / ".cache" / "crm-assistant"
    return Path(base) / "rasa-models"


def model_inputs_hash(bot_dir: Path = BOT_DIR) -> str:
    """Hash of the files that determine the trained model (names and contents).

    Includes the generated NLU inputs (the gazetteer and the ONNX export's manifest) when they
    exist; `ensure_model` writes them first, so a changed account list retrains the model.
    """
    digest = hashlib.sha256()
    files: list[Path] = []
    for name in _MODEL_INPUTS:
        path = bot_dir / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in sorted(files):
        digest.update(str(path.relative_to(bot_dir)).encode())
        digest.update(path.read_bytes())
    lock = REPO_ROOT / "requirements" / "rasa.lock.txt"
    if lock.exists():
        digest.update(lock.read_bytes())
    for generated in _generated_inputs():
        digest.update(generated.name.encode())
        digest.update(generated.read_bytes())
    return digest.hexdigest()[:16]


def _generated_inputs() -> list[Path]:
    onnx = REPO_ROOT / "var" / "onnx"
    manifests = sorted([*onnx.glob("minilm-*/manifest.json"), *onnx.glob("minilm-*/layers.json")])
    return [p for p in (GAZETTEER_PATH, *manifests) if p.is_file()]


def prepare_nlu_inputs() -> Path:
    """Write what the NLU components read at training time; return the ONNX export folder.

    The ONNX export of all-MiniLM-L6-v2 needs torch, which only the main venv has, so it is
    made here (once, cached by the weights' hash). The gazetteer lists the CRM store's account
    and product names (`var/nlu/gazetteer.json`), rewritten only when the lists change.
    """
    from retrieval.onnx_export import export_onnx
    from retrieval.onnx_layers import ensure_layer_graph

    folder = export_onnx()
    ensure_layer_graph(folder)  # the classifier also reads inner layers (bot/config.yml)
    text = json.dumps(gazetteer_names(), indent=1, ensure_ascii=False) + "\n"
    if not GAZETTEER_PATH.is_file() or GAZETTEER_PATH.read_text(encoding="utf-8") != text:
        GAZETTEER_PATH.parent.mkdir(parents=True, exist_ok=True)
        tmp = GAZETTEER_PATH.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(GAZETTEER_PATH)
    return folder


def gazetteer_names(url: str | None = None) -> dict[str, list[str]]:
    """`{"account": [...], "product": [...]}` for `components.gazetteer` (one store read).

    A store without accounts (a fresh clone, CI) gives the demo company's names, built in a
    temporary SQLite file, so the bot knows the accounts and products the walkthrough uses.
    """
    names = _store_names(url)
    if not names["account"]:
        with tempfile.TemporaryDirectory() as tmp:
            demo_url = f"sqlite:///{tmp}/demo.sqlite3"
            from crm_store import demo, migrate
            from crm_store.db import session_scope

            migrate.upgrade(demo_url)
            with session_scope(demo_url) as session:
                demo.seed(session)
            names = _store_names(demo_url)
    return {
        "account": account_forms(names["account"]),
        "product": product_forms(names["product"]),
    }


def account_names(url: str | None = None) -> list[str]:
    """Every account name in the CRM store (or the demo company's), plus "Corp." forms."""
    return gazetteer_names(url)["account"]


def product_names(url: str | None = None) -> list[str]:
    """Every active product's name in the CRM store (or the demo's), plus the spoken forms."""
    return gazetteer_names(url)["product"]


def account_forms(names: list[str]) -> list[str]:
    """The names plus the form with a trailing dot ("Acme Corp.") for company abbreviations."""
    forms = set(names)
    forms.update(f"{n}." for n in names if n.split()[-1].lower() in _ABBREVIATIONS)
    return sorted(forms)


def product_forms(names: list[str]) -> list[str]:
    """The catalogue names plus how people say them: without the qualifiers.

    "Analytics add-on (annual)" is written "analytics add-on" in a chat and "API call pack,
    1M calls" "API call pack": the bracketed billing detail and the variant after a comma are
    not part of what a person types ("CRM seat" then names the product line).
    """
    forms = set(names)
    for name in names:
        bare = _BRACKETED.sub("", name).strip(" ,")
        forms.update(f for f in (bare, bare.split(",")[0].strip()) if len(f) >= 3)
    return sorted(forms)


_ABBREVIATIONS = {"corp", "inc", "ltd", "co", "llc", "plc", "gmbh", "ag", "sa", "bv"}
_BRACKETED = re.compile(r"\s*\([^)]*\)")


def _store_names(url: str | None) -> dict[str, list[str]]:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from crm_store.db import database_url, session_scope
    from crm_store.models import Account, Product

    empty: dict[str, list[str]] = {"account": [], "product": []}
    resolved = url or database_url()
    if resolved.startswith("sqlite:///") and not Path(resolved.removeprefix("sqlite:///")).exists():
        return empty  # do not create an empty database file just to look into it
    try:
        with session_scope(resolved) as session:
            accounts = session.scalars(select(Account.name))
            products = session.scalars(select(Product.name).where(Product.active.is_(True)))
            return {
                "account": sorted({name for name in accounts if name}),
                "product": sorted({name for name in products if name}),
            }
    except SQLAlchemyError:
        return empty  # no database or no schema yet


def ensure_model(out_dir: Path | None = None, *, quiet: bool = False) -> Path:
    """Return the path of a trained model for the current `bot/`, training it if needed.

    Args:
        out_dir: where the model file goes (default `var/rasa-models`).
        quiet: send Rasa's training output to a log file instead of the terminal.

    Returns:
        Path of the `.tar.gz` model named by the inputs' hash.
    """
    out_dir = out_dir or REPO_ROOT / "var" / "rasa-models"
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_dir = prepare_nlu_inputs()
    name = f"bot-{model_inputs_hash()}"
    model = out_dir / f"{name}.tar.gz"
    if model.exists():
        return model
    cached = cache_dir() / model.name
    if cached.exists():
        shutil.copy2(cached, model)
        return model
    _train(out_dir, name, quiet=quiet, env=rasa_env({"CRM_NLU_ONNX_DIR": str(onnx_dir)}))
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(model, cached.with_suffix(".tmp"))
    cached.with_suffix(".tmp").replace(cached)
    return model


def _train(out_dir: Path, name: str, *, quiet: bool, env: dict[str, str]) -> None:
    argv = [
        str(RASA_PYTHON), "-m", "rasa", "train",
        "--config", "config.yml", "--domain", _domain_path(), "--data", "data",
        "--out", str(out_dir), "--fixed-model-name", name,
    ]  # fmt: skip
    log_path = out_dir / f"{name}.train.log"
    print(f"Training the Rasa model ({name}); log: {log_path}", file=sys.stderr)
    with open(log_path, "w") as log:
        result = subprocess.run(
            argv,
            cwd=BOT_DIR,
            env=env,
            stdout=log if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"rasa train failed (exit {result.returncode}); see {log_path}")


def _domain_path() -> str:
    return "domain" if (BOT_DIR / "domain").is_dir() else "domain.yml"


def rasa_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Rasa processes: quiet TensorFlow, no telemetry, `bot/` importable."""
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONPATH": str(BOT_DIR),
    }
    env.pop("VIRTUAL_ENV", None)
    env.update(extra or {})
    return env


def run_rasa_script(
    script: Path, extra_env: dict[str, str] | None = None, timeout: float = 600
) -> dict[str, Any]:
    """Run a check script with the Rasa venv's Python (cwd `bot/`) and return the JSON object
    it prints last: how code that must import rasa reports to the main venv, which cannot.

    Raises:
        RuntimeError: the script failed (its stderr's end is in the message).
    """
    done = subprocess.run(
        [str(RASA_PYTHON), str(script)], cwd=BOT_DIR, env=rasa_env(extra_env),
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} exited {done.returncode}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
