"""Sentence embeddings with all-MiniLM-L6-v2, offline: torch (sentence-transformers) or ONNX.

Both backends return L2-normalised float32 rows, so inner product = cosine. The ONNX backend
runs the graph from `retrieval.onnx_export` and pools exactly like sentence-transformers
(mean over non-padding tokens, then L2 norm); `tests/retrieval/test_embedder.py` checks the
two agree (cosine >= 0.999).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from retrieval.config import RetrievalSettings

DIM = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length; longer text is truncated, as upstream


class Embedder(Protocol):
    """Anything that turns texts into normalised vectors."""

    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a (len(texts), dim) float32 array of L2-normalised embeddings."""
        ...


class TokenEmbedder(Embedder, Protocol):
    """An embedder that also returns the token vectors (for late interaction, MaxSim)."""

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Return the sentence vectors and, per text, its normalised token vectors (float16).

        Token vectors are the encoder's last hidden states of the real tokens ([CLS] and
        [SEP] dropped, padding dropped), each L2-normalised, so a dot product is a cosine.
        """
        ...


def token_rows(hidden: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
    """Per text, the normalised float16 token vectors without [CLS], [SEP] and padding."""
    out = []
    for h, m in zip(hidden, mask, strict=True):
        n = int(m.sum())
        t = h[1 : n - 1] if n > 2 else h[:n]
        t = t / np.clip(np.linalg.norm(t, axis=1, keepdims=True), 1e-12, None)
        out.append(t.astype(np.float16))
    return out


class TorchEmbedder:
    """sentence-transformers on the bundled weights; the reference implementation."""

    dim = DIM

    def __init__(self, settings: RetrievalSettings) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        from retrieval.onnx_export import model_dir

        torch.set_num_threads(settings.threads)
        self._model = SentenceTransformer(str(model_dir()), device="cpu")
        self._batch = settings.batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in batches (sentence-transformers sorts them by length)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        out = self._model.encode(
            list(texts), batch_size=self._batch, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.ascontiguousarray(out, dtype=np.float32)

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Sentence vectors plus token vectors (sentence-transformers' `token_embeddings`)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32), []
        rows = self._model.encode(list(texts), batch_size=self._batch, output_value=None)
        vecs = np.stack([r["sentence_embedding"].numpy() for r in rows]).astype(np.float32)
        vecs /= np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
        tokens = []
        for r in rows:
            hidden = r["token_embeddings"].numpy()[None]
            tokens += token_rows(hidden, r["attention_mask"].numpy()[None])
        return vecs, tokens


class OnnxEmbedder:
    """onnxruntime + tokenizers: no torch at query time, about 3x faster for one query."""

    dim = DIM

    def __init__(self, settings: RetrievalSettings) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from retrieval.onnx_export import export_onnx

        folder = export_onnx(settings)
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.enable_truncation(MAX_TOKENS)
        self._tok.no_padding()  # batches are padded here, after grouping texts by token count
        self._batch = settings.batch_size
        # Two sessions on the same file: batches use `threads`, a single query uses
        # `query_threads` (one thread answered a query 2x faster on the busy 2-core machine,
        # docs/benchmarks.md), so indexing and chat traffic do not fight over cores.
        self._sessions = {
            name: ort.InferenceSession(
                str(folder / "model.onnx"),
                _options(ort, threads),
                providers=["CPUExecutionProvider"],
            )
            for name, threads in (("batch", settings.threads), ("query", settings.query_threads))
        }

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; batches group texts of similar token counts to limit padding."""
        return self._encode(texts, tokens=None)

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Sentence vectors plus normalised token vectors, from the same forward pass."""
        tokens: list[np.ndarray] = [np.zeros((0, DIM), dtype=np.float16)] * len(texts)
        return self._encode(texts, tokens), tokens

    def _encode(self, texts: Sequence[str], tokens: list[np.ndarray] | None) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        ids = [e.ids for e in self._tok.encode_batch(list(texts))]
        for idx in length_batches([len(i) for i in ids], self._batch):
            hidden, mask = self._run([ids[i] for i in idx])
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            if tokens is not None:
                for i, rows in zip(idx, token_rows(hidden, mask), strict=True):
                    tokens[i] = rows
        return out

    def _run(self, rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)  # [PAD] is id 0
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for n, r in enumerate(rows):
            ids[n, : len(r)] = r
            mask[n, : len(r)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        session = self._sessions["query" if len(rows) == 1 else "batch"]
        return session.run(["last_hidden_state"], feeds)[0], mask


def length_batches(lengths: Sequence[int], size: int, slack: float = 1.25) -> list[np.ndarray]:
    """Group indices by token count: at most `size` per batch, none longer than `slack` times
    (plus 8 tokens) the batch's shortest text.

    Why: a batch is padded to its longest text. Fixed-size batches of length-sorted texts
    still mixed the short title keys with 800-character bodies at the boundary, and that one
    batch wasted about a quarter of the encoder's work on padding (docs/benchmarks.md).
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    batches: list[np.ndarray] = []
    start = 0
    for end in range(1, len(order) + 1):
        full = end - start == size
        if end == len(order) or full or lengths[order[end]] > slack * lengths[order[start]] + 8:
            batches.append(order[start:end])
            start = end
    return batches


def _options(ort: object, threads: int) -> object:
    opts = ort.SessionOptions()  # type: ignore[attr-defined]
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return opts


_cache: dict[tuple[str, int, int, int], Embedder] = {}


def load_embedder(settings: RetrievalSettings | None = None) -> Embedder:
    """Return a process-wide embedder for the configured backend (loaded once).

    Args:
        settings: `backend` ("onnx" or "torch"), `threads`, `query_threads`, `batch_size`.

    Returns:
        A ready embedder; the first call loads the model (about 1-3 s).
    """
    settings = settings or RetrievalSettings()
    key = (settings.backend, settings.threads, settings.query_threads, settings.batch_size)
    if key not in _cache:
        if settings.backend not in ("onnx", "torch"):
            raise ValueError(f"unknown embedding backend {settings.backend!r}: use onnx or torch")
        cls = OnnxEmbedder if settings.backend == "onnx" else TorchEmbedder
        _cache[key] = cls(settings)
    return _cache[key]
