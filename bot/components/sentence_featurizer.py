"""Dense sentence features from all-MiniLM-L6-v2, run with onnxruntime (no torch in Rasa).

The ONNX graph is the one `retrieval.onnx_export` writes under `var/onnx/minilm-<hash>/`
(inputs `input_ids`, `attention_mask`, `token_type_ids`; output `last_hidden_state`). Pooling
matches sentence-transformers (mean over real tokens, then L2 norm), so the vectors equal the
torch model's (tests/nlu checks cosine >= 0.999). The graph and tokenizer are copied into the
trained model, so a model file runs anywhere without the checkout's `var/`.
"""

# Rasa's graph validation compares these annotations with its own `typing.List` ones.
# ruff: noqa: UP006, UP035, UP019, UP045, UP037

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DIM = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length, as upstream
GRAPH = "model.onnx"
# Same weights, inner layers as extra outputs (retrieval/onnx_layers.py makes it).
LAYERS_GRAPH = "model_layers.onnx"
TOKENIZER = "tokenizer.json"
ENV_MODEL_DIR = "CRM_NLU_ONNX_DIR"


def resolve_model_dir(configured: Text, graph: Text = GRAPH) -> Path:
    """Find the ONNX export: a folder holding `graph`, or the newest `minilm-*` in it.

    Args:
        configured: a path from the config (relative to Rasa's cwd `bot/`); the environment
            variable `CRM_NLU_ONNX_DIR` overrides it.

    Returns:
        The folder with `model.onnx` and `tokenizer.json`.

    Raises:
        FileNotFoundError: when no export exists (it is made by the main venv, which has torch).
    """
    files = (graph, TOKENIZER)
    root = Path(os.environ.get(ENV_MODEL_DIR) or configured).expanduser()
    if all((root / name).is_file() for name in files):
        return root
    candidates = sorted(
        (p.parent for p in root.glob("minilm-*/manifest.json")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for folder in candidates:
        if all((folder / name).is_file() for name in files):
            return folder
    raise FileNotFoundError(
        f"no MiniLM ONNX export with {graph} under {root.resolve()}; create it with "
        "`.venv/bin/python -m retrieval.onnx_export` (crm_cli.rasa_model does this before training)"
    )


class MiniLMEncoder:
    """Tokenizer + ONNX session that turn texts into normalised 384-d vectors.

    With `layers`, each vector is followed by the normalised mean of those inner layers, each
    scaled by `layer_weight`: the first 384 numbers stay the sentence embedding.
    """

    def __init__(
        self,
        folder: Path,
        threads: int,
        batch_threads: int,
        layers: Tuple[int, ...] = (),
        layer_weight: float = 1.0,
    ) -> None:
        """Load the graph and tokenizer from `folder` (heavy imports happen here).

        Two sessions: one message at a time (a chat turn) runs on `threads`, batches (training)
        on `batch_threads`; on this 2-core machine one thread answered a single query fastest.
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.layers = tuple(int(layer) for layer in layers)
        self.layer_weight = float(layer_weight)
        self.outputs = ["last_hidden_state", *(f"hidden_{layer}" for layer in self.layers)]
        self.dim = DIM * len(self.outputs)
        graph = LAYERS_GRAPH if self.layers else GRAPH
        self._tok = Tokenizer.from_file(str(folder / TOKENIZER))
        self._tok.enable_truncation(MAX_TOKENS)
        self._tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self._sessions: Dict[Text, Any] = {}
        for kind, count in (("single", threads), ("batch", batch_threads)):
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = count
            opts.inter_op_num_threads = 1
            self._sessions[kind] = ort.InferenceSession(
                str(folder / graph), opts, providers=["CPUExecutionProvider"]
            )

    def encode(self, texts: List[Text], batch_size: int = 64) -> np.ndarray:
        """Embed texts in length-sorted batches (little padding); rows keep input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def _encode_batch(self, texts: List[Text]) -> np.ndarray:
        encs = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        session = self._sessions["single" if len(texts) == 1 else "batch"]
        states = session.run(self.outputs, feeds)
        weights = mask[..., None].astype(np.float32)
        parts = []
        for i, hidden in enumerate(states):
            pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
            unit = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            parts.append(unit if i == 0 else unit * self.layer_weight)
        return np.concatenate(parts, axis=1)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one dense sentence feature (the MiniLM embedding) to each message's text.

    Trainable only in the sense that `train` copies the ONNX export into the model, so the
    packaged model does not depend on files outside it.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """`model_dir`: export folder or its parent; threads for one message / a batch."""
        return {
            **DenseFeaturizer.get_default_config(),
            "model_dir": "../var/onnx",
            "threads": 1,
            "batch_threads": 2,
            "batch_size": 64,
            # Inner layers whose mean follows the embedding (1-5; [] = the embedding only).
            "extra_layers": [],
            "extra_layer_weight": 1.0,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """onnxruntime runs the graph; tokenizers reproduces the BERT word pieces."""
        return ["onnxruntime", "tokenizers"]

    def __init__(
        self,
        config: Dict[Text, Any],
        name: Text,
        model_storage: ModelStorage,
        resource: Resource,
        source: Optional[Path] = None,
    ) -> None:
        """Keep the config; the encoder loads lazily from `source` (an export folder)."""
        self.config = {**self.get_default_config(), **config}
        super().__init__(name, self.config)
        self._model_storage = model_storage
        self._resource = resource
        self._source = source
        self._encoder: Optional[MiniLMEncoder] = None

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Threads and batch size must be positive integers."""
        for key in ("threads", "batch_threads", "batch_size"):
            if int(config.get(key, 1)) < 1:
                raise ValueError(f"MiniLMFeaturizer: {key} must be >= 1, got {config[key]!r}")
        for layer in config.get("extra_layers") or []:
            if int(layer) not in range(1, 6):
                raise ValueError(f"MiniLMFeaturizer: extra_layers must be 1-5, got {layer!r}")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MiniLMFeaturizer":
        """New component reading the export found from `model_dir`."""
        merged = {**cls.get_default_config(), **config}
        graph = LAYERS_GRAPH if merged.get("extra_layers") else GRAPH
        source = resolve_model_dir(merged["model_dir"], graph)
        return cls(merged, execution_context.node_name, model_storage, resource, source)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "MiniLMFeaturizer":
        """Load the encoder from the model's own copy of the export (fails loudly if absent)."""
        component = cls(config, execution_context.node_name, model_storage, resource)
        with model_storage.read_from(resource) as folder:
            component._encoder = component._new_encoder(Path(folder))
        return component

    def train(self, training_data: TrainingData) -> Resource:
        """Copy the graph and tokenizer into the model storage."""
        if self._source is None:
            raise ValueError("MiniLMFeaturizer was loaded, not created; it cannot be retrained")
        with self._model_storage.write_to(self._resource) as folder:
            graph = LAYERS_GRAPH if self.config["extra_layers"] else GRAPH
            for name in (graph, TOKENIZER):
                shutil.copy2(self._source / name, Path(folder) / name)
        return self._resource

    def _new_encoder(self, folder: Path) -> MiniLMEncoder:
        return MiniLMEncoder(
            folder,
            int(self.config["threads"]),
            int(self.config["batch_threads"]),
            tuple(self.config["extra_layers"] or ()),
            float(self.config["extra_layer_weight"]),
        )

    def _get_encoder(self) -> MiniLMEncoder:
        if self._encoder is None:
            if self._source is None:
                raise ValueError("MiniLMFeaturizer has no ONNX model")
            self._encoder = self._new_encoder(self._source)
        return self._encoder

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize every training example that has text."""
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Add a (1, 384 x (1 + extra layers)) dense sentence feature to each text."""
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return messages
        vectors = self._get_encoder().encode(
            [m.get(TEXT) for m in with_text], int(self.config["batch_size"])
        )
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(
                sequence=None, sentence=vector[None, :], attribute=TEXT, message=message
            )
        return messages
