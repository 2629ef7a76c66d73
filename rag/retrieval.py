"""Hybrid retrieval: dense (Chroma) and BM25 lists fused by reciprocal rank, duplicates collapsed."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Literal

from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from rag.chunking import UPLOADED_FILE
from rag.dates import to_epoch
from rag.embedding import reads_every_language
from rag.fusion import collapse_near_duplicates, reciprocal_rank_fusion
from rag.keyword import KeywordIndex
from rag.languages import written_in_english
from rag.store import ChromaStore
from rag.text import check_unicode
from rag.types import Hit


SearchMode = Literal["hybrid", "dense", "keyword"]
SEARCH_MODES: tuple[str, ...] = ("hybrid", "dense", "keyword")


@dataclass(frozen=True)
class SearchFilters:
    """Restrict a search to some source files and/or a publication window (epoch seconds)."""

    sources: tuple[str, ...] = ()  # file names, as shown in citations
    published_from: int | None = None  # inclusive
    published_to: int | None = None  # exclusive
    # Uploaded files never returned: other visitors' uploads (``NewsRAG.visitor_filters``), by the name their
    # passages carry as an upload's (``rag.chunking.UPLOADED_FILE``), so an article the server indexed under the
    # same name is not left out with them. By file name, not by article: an upload's file is saved before any of
    # its passages is written, so none is ever searchable unlisted, and a collection of 33,000 articles is one
    # name (33,000 doc_ids failed every search in Chroma).
    hidden_uploads: tuple[str, ...] = ()
    # File names never returned, by ``source_name``: uploads indexed before their passages carried their name.
    exclude_sources: tuple[str, ...] = ()
    # The uploaded files this search may read (None: every one). Checked on each passage found, by where its
    # article's file lies, so a passage written after ``exclude_sources`` was decided is never read either.
    uploads: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        """Take what a caller naturally writes: one file name or path, a list of them, and dates as the
        CLI and the HTTP API take them ("2025-01-31", a ``datetime``, a year); a string date reached the
        keyword index and failed there with a ``TypeError``. A bad date raises ``DateError``."""
        sources = (self.sources,) if isinstance(self.sources, str) else tuple(self.sources)
        # Sources are file names; a path as typed to `rag ingest` ("arch/festival.md") matched nothing.
        for source in sources:
            check_unicode("source filter", source)  # Chroma failed on it: a 500
        object.__setattr__(self, "sources", tuple(Path(source).name for source in sources))
        object.__setattr__(self, "exclude_sources", tuple(sorted(set(self.exclude_sources))))
        object.__setattr__(self, "hidden_uploads", tuple(sorted(set(self.hidden_uploads))))
        if self.uploads is not None:
            object.__setattr__(self, "uploads", tuple(sorted(set(self.uploads))))
        for name in ("published_from", "published_to"):
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
                value = int(value.timestamp())
            elif isinstance(value, date):
                value = int(datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp())
            object.__setattr__(self, name, to_epoch(value))

    def to_metadata_filters(self) -> MetadataFilters | None:
        conditions: list[MetadataFilter] = []
        if self.sources:
            # A file name is stored as its file system wrote it: macOS writes "Łódź.txt" decomposed (NFD), and
            # the name as typed (composed) matched nothing. Either spelling of a typed name matches.
            spellings = sorted({unicodedata.normalize(form, name) for name in self.sources for form in ("NFC", "NFD")})
            conditions.append(MetadataFilter(key="source_name", value=spellings, operator=FilterOperator.IN))
        if self.published_from is not None:
            conditions.append(MetadataFilter(key="published", value=self.published_from, operator=FilterOperator.GTE))
        if self.published_to is not None:
            conditions.append(MetadataFilter(key="published", value=self.published_to, operator=FilterOperator.LT))
        if self.hidden_uploads:
            conditions.append(MetadataFilter(key=UPLOADED_FILE, value=list(self.hidden_uploads),
                                             operator=FilterOperator.NIN))
        if self.exclude_sources:
            conditions.append(MetadataFilter(key="source_name", value=list(self.exclude_sources),
                                             operator=FilterOperator.NIN))
        return MetadataFilters(filters=conditions, condition=FilterCondition.AND) if conditions else None


# Measured (session 40): questions in the archive's language see 84-100% of themselves (2,000 CNN articles,
# 1,188 English questions: 89% at least; 1,861 Chinese ones, 40 Chinese questions: 84%), English questions
# over the Chinese archive 0-32%, a Spanish one over English articles 54% (names and cognates: real matches).
# Half sits in the gap, so no question in the archive's language loses any of its keyword vote.
KEYWORD_FULL_VOTE_AT = 0.5


# The dense list's vote for a question not written in English when the embedding model reads English only
# (``dense_weight``). Chosen among 0, 0.25, 0.5 and 1 on multilingual_dev and multilingual_holdout, passages
# holding the answer in the top 4 and top 1: 64/45 at 1, 65/61 at 0 (eval/EXPERIMENTS.md, session 57).
DENSE_VOTE_UNREAD = 0.0


class HybridRetriever:
    """Dense + keyword search over one index. Each list proposes ``candidates``; RRF decides."""

    def __init__(self, store: ChromaStore, keyword: KeywordIndex, embed_model: BaseEmbedding,
                 candidates: int = 20) -> None:
        self.store = store
        self.keyword = keyword
        self.candidates = candidates
        self.multilingual = reads_every_language(embed_model)
        self._index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embed_model)

    def dense(self, query: str, k: int, filters: MetadataFilters | None = None) -> list[NodeWithScore]:
        retriever = self._index.as_retriever(similarity_top_k=k, filters=filters)
        # A passage another process removed (`rag remove` while a notebook holds the embedded index) still
        # has its vector in this process's copy of Chroma's graph, and came back as a hit with no article,
        # no title and no text.
        return [result for result in retriever.retrieve(query) if result.node.metadata.get("doc_id")]

    def retrieve(self, query: str, k: int, filters: SearchFilters | None = None,
                 mode: SearchMode = "hybrid") -> list[Hit]:
        """``hybrid`` fuses both lists; ``dense`` and ``keyword`` use one (for comparison and debugging)."""
        if mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {mode!r}; choose one of {', '.join(SEARCH_MODES)}")
        if not query.strip():
            return []
        metadata_filters = filters.to_metadata_filters() if filters else None
        pool = max(self.candidates, k)
        dense = self.dense(query, pool, metadata_filters) if mode != "keyword" else []
        sparse = self.keyword.search(query, pool, metadata_filters) if mode != "dense" else []
        hybrid = mode == "hybrid"
        vote = keyword_weight(self.keyword.coverage(query)) if hybrid and self.multilingual else 1.0
        return fuse(dense, sparse, k, keyword_weight=vote,
                    dense_weight=dense_weight(query, self.multilingual) if hybrid else 1.0)


def keyword_weight(coverage: float) -> float:
    """The keyword list's vote in the fusion: whole when BM25 sees at least ``KEYWORD_FULL_VOTE_AT`` of the
    question (``KeywordIndex.coverage``), else in proportion.

    A question in another language than the articles matches them only on its years and acronyms, and an
    equal vote let those matches push the passages a multilingual embedding found across languages out of
    the top (English questions over the Chinese archive, e5: recall@1 0.75 dense alone, 0.61 fused with
    equal votes). The vote is not simply the coverage: a question in the archive's language sees 84-100% of
    itself (Chinese character pairs across word ends are missing), and with MiniLM, whose dense list is
    weak on Chinese, even that small cut lost the gold article from the top 4 for 5 of 28 questions.
    Only a dense list that reads every language earns the rest of the vote (``reads_every_language``):
    with MiniLM, held-out Russian questions over the CNN archive lost their article from the top 4 when
    BM25's vote shrank (5 of 15 found with equal votes, 1 without): its matches on the question's Latin
    names were all the search had. With e5 the same questions are found either way.
    """
    return min(1.0, coverage / KEYWORD_FULL_VOTE_AT)


def dense_weight(question: str, multilingual: bool) -> float:
    """The dense list's vote in the fusion: whole, but ``DENSE_VOTE_UNREAD`` for a question not written in
    English when the embedding model reads English only (``reads_every_language``).

    MiniLM places a Greek, Thai or Tamil question near passages of no relation to it, and with an equal
    vote its list pushed the passages keyword search ranked first out of the top: on the multilingual sets
    keyword search alone put the passage holding the answer first for 92 of 114 questions, fused 64. With
    no vote, the dense list still fills the places keyword search leaves empty (RRF keeps its passages,
    after every keyword hit), so a question whose words the archive lacks still gets passages."""
    return 1.0 if multilingual or written_in_english(question) else DENSE_VOTE_UNREAD


def fuse(dense: list[NodeWithScore], sparse: list[NodeWithScore], k: int, keyword_weight: float = 1.0,
         dense_weight: float = 1.0) -> list[Hit]:
    """RRF over the two lists (each list's votes times its weight), then the top ``k`` distinct passages
    as ``Hit``s."""
    by_id = {hit.node.node_id: hit for hit in sparse} | {hit.node.node_id: hit for hit in dense}
    dense_scores = {hit.node.node_id: hit.score for hit in dense}
    sparse_scores = {hit.node.node_id: hit.score for hit in sparse}
    fused = reciprocal_rank_fusion([[h.node.node_id for h in dense], [h.node.node_id for h in sparse]],
                                   weights=[dense_weight, keyword_weight])
    hits = [to_hit(by_id[node_id], score, dense_scores.get(node_id), sparse_scores.get(node_id))
            for node_id, score in fused]
    return collapse_near_duplicates(hits, lambda hit: hit.text)[:k]


def to_hit(result: NodeWithScore, score: float, dense_score: float | None,
           keyword_score: float | None) -> Hit:
    node = result.node
    meta = node.metadata
    start = node.start_char_idx or 0  # type: ignore[attr-defined]
    text = node.get_content()
    return Hit(
        chunk_id=node.node_id, doc_id=node.ref_doc_id or str(meta.get("doc_id", "")), text=text,
        start=start, end=node.end_char_idx or start + len(text),  # type: ignore[attr-defined]
        score=score, title=str(meta.get("title", "")), source=str(meta.get("source", "")),
        source_name=str(meta.get("source_name", "")), publisher=str(meta.get("publisher", "")),
        published=int(meta["published"]) if meta.get("published") not in (None, "") else None,
        dense_score=_cosine(dense_score), keyword_score=keyword_score,
    )


def _cosine(similarity: float | None) -> float | None:
    """The Chroma adapter reports exp(-distance); with cosine space that is exp(cos - 1)."""
    if similarity is None or similarity <= 0:
        return None
    return 1.0 + math.log(similarity)
