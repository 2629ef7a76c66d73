"""BM25 keyword search over the stored chunks, persisted beside the index.

Chroma has no local sparse search, so the app keeps one: built when ingestion changes the index and
loaded from disk afterwards, never rebuilt per query. It records how many chunks it was built from;
a different count in the store (another process ingested) triggers one rebuild.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.vector_stores.types import MetadataFilters

if TYPE_CHECKING:
    from llama_index.retrievers.bm25 import BM25Retriever  # imported when first built: it loads bm25s

_STAMP = "news_rag_stamp.json"
# BM25Retriever's defaults: the corpus is tokenised with them here, queries with them after loading.
_LANGUAGE = "en"
_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
logging.getLogger("bm25s").setLevel(logging.WARNING)


class KeywordIndex:
    """A llama-index ``BM25Retriever`` with a directory to live in."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._retriever = None  # BM25Retriever | None (None = empty index)
        self._chunks = -1  # chunk count it was built from; -1 = not loaded

    @property
    def chunks(self) -> int:
        return self._chunks

    def rebuild(self, nodes: Iterable[TextNode]) -> None:
        """Index these nodes and persist them atomically (a kill leaves the previous copy)."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        retriever = _build_retriever(nodes)
        staging = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        chunks = len(retriever.corpus) if retriever is not None else 0
        if retriever is not None:
            with contextlib.redirect_stderr(io.StringIO()):  # bm25s draws tqdm bars while saving
                retriever.persist(str(staging))
        del retriever  # loaded back below: never two copies in memory
        (staging / _STAMP).write_text(json.dumps({"chunks": chunks}))
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            self.directory.rename(old)
        staging.rename(self.directory)
        shutil.rmtree(old, ignore_errors=True)
        self.load()  # the loaded form carries its corpus, which per-query filters need

    def load(self) -> bool:
        """Load the persisted index; False when there is none."""
        from llama_index.retrievers.bm25 import BM25Retriever

        stamp = self.directory / _STAMP
        if not stamp.exists():
            return False
        chunks = int(json.loads(stamp.read_text())["chunks"])
        with contextlib.redirect_stderr(io.StringIO()):  # bm25s draws a tqdm bar while loading
            self._retriever = BM25Retriever.from_persist_dir(str(self.directory)) if chunks else None
        self._chunks = chunks
        return True

    def search(self, query: str, k: int, filters: MetadataFilters | None = None) -> list[NodeWithScore]:
        if self._retriever is None or not query.strip():
            return []
        retriever = self._retriever
        total = len(retriever.corpus)
        if filters is not None:
            from llama_index.retrievers.bm25 import BM25Retriever

            try:  # the filter mask is built at construction; the BM25 matrix itself is shared
                retriever = BM25Retriever(existing_bm25=retriever.bm25, filters=filters, similarity_top_k=k)
            except ValueError:  # every chunk filtered out
                return []
        retriever.similarity_top_k = min(k, total)
        return [hit for hit in retriever.retrieve(query) if hit.score and hit.score > 0]


def _build_retriever(nodes: Iterable[TextNode]) -> BM25Retriever | None:
    """``BM25Retriever.from_defaults(nodes=...)`` without holding every node in memory.

    llama-index needs the whole node list (it walks it twice); at 80,000 chunks those objects cost
    ~700 MB on top of the index. Each node is reduced to what the retriever keeps (its serialised
    form and its text) as it streams from the store. The tokenisation is the retriever's own with
    its defaults, which are also what ``from_persist_dir`` uses for queries (they are not persisted).
    """
    import bm25s
    import Stemmer
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict
    from llama_index.retrievers.bm25 import BM25Retriever

    corpus: list[dict] = []  # type: ignore[type-arg]
    texts: list[str] = []
    for node in nodes:
        corpus.append(node_to_metadata_dict(node) | {"node_id": node.node_id})
        texts.append(node.get_content(metadata_mode=MetadataMode.EMBED))
    if not corpus:
        return None
    stemmer = Stemmer.Stemmer("english")
    tokens = bm25s.tokenize(texts, stopwords=_LANGUAGE, stemmer=stemmer, token_pattern=_TOKEN_PATTERN,
                            show_progress=False)
    del texts
    bm25 = bm25s.BM25()
    bm25.index(tokens, show_progress=False)
    bm25.corpus = corpus
    return BM25Retriever(existing_bm25=bm25, stemmer=stemmer, language=_LANGUAGE, token_pattern=_TOKEN_PATTERN,
                         similarity_top_k=min(10, len(corpus)))
