"""Ingestion: files -> cleaned articles -> chunks -> vectors -> Chroma, idempotent and safe to kill.

Unchanged articles (same content hash already stored) cost one registry lookup and no embedding.
Articles are written in groups; each group's registry records go last (see ``store.py``), so a
killed run leaves every article either fully stored or 'not stored', and the next run finishes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import MetadataMode, TextNode

from rag.chunking import chunk_article
from rag.errors import FileRejected
from rag.loading import find_files, load_file
from rag.store import ChromaStore
from rag.types import Article, IngestReport, SkippedFile

# (files done, files total, current file name)
Progress = Callable[[int, int, str], None]
GROUP_CHUNKS = 512  # chunks embedded and written together: big enough to batch, small enough to lose little


def ingest_paths(paths: Sequence[Path], store: ChromaStore, embed_model: BaseEmbedding,
                 splitter: SentenceSplitter, max_bytes: int, progress: Progress | None = None) -> IngestReport:
    """Ingest files and directories; one bad file is skipped with a reason, never fatal."""
    started = time.perf_counter()
    report = IngestReport()
    files, rejected = find_files([Path(p) for p in paths])
    report.skipped.extend(SkippedFile(str(path), reason) for path, reason in rejected)
    pending: list[tuple[Article, list[TextNode]]] = []
    seen: set[str] = set()
    for done, (path, articles) in enumerate(_load_all(files, max_bytes, report), start=1):
        fresh = [a for a in articles if a.doc_id not in seen]
        seen.update(a.doc_id for a in fresh)
        stored = store.stored_hashes([a.doc_id for a in fresh])
        for article in fresh:
            if stored.get(article.doc_id) == article.sha256:
                report.unchanged.append(article.doc_id)
                continue
            (report.updated if article.doc_id in stored else report.added).append(article.doc_id)
            pending.append((article, chunk_article(article, splitter)))
        if sum(len(nodes) for _, nodes in pending) >= GROUP_CHUNKS:
            report.chunks_embedded += _embed_and_write(pending, store, embed_model)
            pending = []
        if progress:
            progress(done, len(files), path.name)
    report.chunks_embedded += _embed_and_write(pending, store, embed_model)
    report.seconds = time.perf_counter() - started
    return report


def _load_all(files: list[Path], max_bytes: int, report: IngestReport) -> Iterator[tuple[Path, list[Article]]]:
    for path in files:
        try:
            yield path, load_file(path, max_bytes)
        except FileRejected as exc:
            report.skipped.append(SkippedFile(str(path), str(exc)))
            yield path, []


def _embed_and_write(batch: list[tuple[Article, list[TextNode]]], store: ChromaStore,
                     embed_model: BaseEmbedding) -> int:
    nodes = [node for _, article_nodes in batch for node in article_nodes]
    if not nodes:
        store.write_articles(batch)  # articles whose text produced no chunk still get a record
        return 0
    texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
    for node, vector in zip(nodes, embed_model.get_text_embedding_batch(texts)):
        node.embedding = vector
    store.write_articles(batch)
    return len(nodes)
