"""Ingestion: files -> cleaned articles -> chunks -> vectors -> Chroma, idempotent and safe to kill.

Unchanged articles (same content hash, cut by the same chunking) cost one registry lookup and no embedding;
an article cut by another chunker version or chunk size is chunked and embedded again.
Articles are written in groups; each group's registry records go last (see ``store.py``), so a
killed run leaves every article either fully stored or 'not stored', and the next run finishes.

Embedding is nearly all the work, so it never waits for the rest: a background thread embeds one
group while this thread loads and chunks the next and writes the previous one (onnxruntime and the
HTTP clients release the GIL). Groups are still written in order, one at a time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import MetadataMode, TextNode

from rag.chunking import chunk_article, chunking_id
from rag.embedding import embed_documents
from rag.errors import FileRejected
from rag.loading import LoadedFile, find_files, read_file, unforeseen_reason
from rag.store import ChromaStore, StoredVersion
from rag.types import Article, IngestReport, SkippedFile
from rag.uploads import in_folder

# (files done, files total, what is being read): "done" counts a collection's articles as parts of its file,
# so a bar over one 10,000-article JSON Lines file moves as its articles are indexed.
Progress = Callable[[float, int, str], None]
GROUP_CHUNKS = 512  # chunks embedded and written together: big enough to batch, small enough to lose little
Group = list[tuple[Article, list[TextNode]]]
Chunking = Callable[[Article], str]  # what an article's chunks were cut with (``chunking_id``)


def ingest_paths(paths: Sequence[Path], store: ChromaStore, embed_model: BaseEmbedding,
                 splitter: SentenceSplitter, max_bytes: int, progress: Progress | None = None,
                 max_collection_bytes: int | None = None, uploads: Path | None = None) -> IngestReport:
    """Ingest files and directories; one bad file is skipped with a reason, never fatal. Articles whose
    file lies in ``uploads`` (visitors' uploads, however they come to be ingested) are marked so.

    Groups are cut at article boundaries, never at file ones: a collection's articles are written as
    they are embedded, so killing a run over one big JSON Lines file keeps what it had indexed."""
    started = time.perf_counter()
    report = IngestReport()
    files, rejected = find_files([Path(p) for p in paths])
    report.skipped.extend(SkippedFile(str(path), reason) for path, reason in rejected)
    pending: Group = []
    pending_chunks = 0
    seen: dict[str, tuple[str, str]] = {}  # doc_id -> (where it was first read in this run, its text)
    chunking = partial(chunking_id, splitter)
    uploads_folder = str(Path(uploads).resolve()) if uploads is not None else None
    with _Writer(store, embed_model, chunking) as writer:
        loaded_files = _load_all(files, max_bytes, max_collection_bytes or max_bytes, report)
        for done, (path, loaded) in enumerate(loaded_files):
            fresh = _first_mentions(loaded, seen, report)
            report.removed.extend(_remove_withdrawn(loaded, path, store))
            stored = store.stored_versions([a.doc_id for a in fresh])
            for position, article in enumerate(fresh, start=1):
                outcome = _outcome(stored.get(article.doc_id), StoredVersion.of(article, chunking(article)), report)
                outcome.append(article.doc_id)
                if outcome is not report.unchanged:
                    nodes = chunk_article(article, splitter, uploads_folder is not None
                                          and in_folder(article.source, uploads_folder))
                    pending.append((article, nodes))
                    pending_chunks += len(nodes)
                if pending_chunks >= GROUP_CHUNKS:
                    writer.submit(pending)  # waits while the group before it is still being embedded
                    pending, pending_chunks = [], 0
                    if progress and len(fresh) > 1:
                        progress(done + position / len(fresh), len(files),
                                 f"{path.name} ({position:,} of {len(fresh):,} articles)")
            if progress:
                progress(done + 1, len(files), path.name)
        writer.submit(pending)
    gone = _gone_files(paths, store)
    report.removed.extend(store.remove_articles(list(gone)) if gone else [])
    _report_vanished(report, gone)
    report.chunks_embedded = writer.chunks_written
    report.seconds = time.perf_counter() - started
    return report


def _remove_withdrawn(loaded: LoadedFile, path: Path, store: ChromaStore) -> list[str]:
    """A collection file is the whole set of its articles: those it no longer holds leave the index."""
    if loaded.collection is None:
        return []
    held = {article.doc_id for _, article in loaded.articles}
    return store.remove_articles([doc_id for doc_id in store.articles_of_file(loaded.collection, path.name)
                                  if doc_id not in held])


def _gone_files(paths: Sequence[Path], store: ChromaStore) -> dict[str, str]:
    """A folder ingested again is the whole set of its files, as a collection file is of its lines: the
    articles (doc_id -> source) of files deleted, renamed or moved out of it are to leave the index (they
    stayed searchable, and a renamed file was indexed twice). A file still there but unreadable now keeps
    what it had indexed."""
    gone: dict[str, str] = {}
    for folder in {Path(p).resolve() for p in paths if Path(p).is_dir()}:
        gone |= {doc_id: source for doc_id, source in store.articles_under(folder).items()
                 if not _source_file_exists(source)}
    return gone


def _report_vanished(report: IngestReport, gone: dict[str, str]) -> None:
    """An article read in this run whose file was renamed, moved or deleted before the run ended has left
    the index: it is reported as removed, with a warning, not also as added (one id in both lists, and
    counts that did not add up to the index)."""
    vanished = set(gone) & {*report.added, *report.updated, *report.rechunked, *report.unchanged}
    if not vanished:
        return
    for kept in (report.added, report.updated, report.rechunked, report.unchanged):
        kept[:] = [doc_id for doc_id in kept if doc_id not in vanished]
    for source in sorted({gone[doc_id].split("#", 1)[0] for doc_id in vanished}):
        report.warnings.append(SkippedFile(source, "renamed, moved or deleted while it was being ingested: its "
                                                   "articles were removed again; ingest again to index it where it is now"))


def _source_file_exists(source: str) -> bool:
    """Whether an article's file is still there: a collection's article is ``<file>#<key>``, and either
    part may hold a "#" itself."""
    cuts = [len(source)] + [i for i, char in enumerate(source) if char == "#"]
    return any(Path(source[:cut]).is_file() for cut in cuts)


def _outcome(stored: StoredVersion | None, current: StoredVersion, report: IngestReport) -> list[str]:
    """The report list an article belongs to: only an unchanged one is skipped. A new title, date or
    publisher with the same text is an update: the title is embedded with every chunk."""
    if stored is None:
        return report.added
    if stored == current:
        return report.unchanged
    same_article = (stored.sha256, stored.facts) == (current.sha256, current.facts)
    return report.rechunked if same_article else report.updated


def _load_all(files: list[Path], max_bytes: int, max_collection_bytes: int,
              report: IngestReport) -> Iterator[tuple[Path, LoadedFile]]:
    """Each file's articles; a file that fails in any way (foreseen or not) is skipped with its reason."""
    for path in files:
        try:
            loaded = read_file(path, max_bytes, max_collection_bytes)
        except FileRejected as exc:
            report.skipped.append(SkippedFile(str(path), str(exc)))
            loaded = LoadedFile()
        except Exception as exc:  # noqa: BLE001  one file's surprise must not stop the others
            report.skipped.append(SkippedFile(str(path), unforeseen_reason(exc)))
            loaded = LoadedFile()
        report.skipped.extend(SkippedFile(where, reason) for where, reason in loaded.problems)
        report.warnings.extend(SkippedFile(where, reason) for where, reason in loaded.warnings)
        yield path, loaded


def _first_mentions(loaded: LoadedFile, seen: dict[str, tuple[str, str]], report: IngestReport) -> list[Article]:
    """The articles not already read in this run; each repeat is reported (same id twice in a feed,
    or one file named twice), never dropped silently. Another article under a key already read is
    named as such: "the same article" sent its owner looking for a copy that was not there."""
    fresh = []
    for where, article in loaded.articles:
        if article.doc_id in seen:
            first, text = seen[article.doc_id]
            reason = (f"duplicate: the same article (source {article.source}) was already read from {first}"
                      if text == article.text else
                      f"duplicate key: another article under the same key (source {article.source}) was read from "
                      f"{first}; only that one is indexed. Give each article its own id")
            report.skipped.append(SkippedFile(where, reason))
            continue
        seen[article.doc_id] = (where, article.text)
        fresh.append(article)
    return fresh


class _Writer:
    """Embeds groups on one background thread and writes them, in order, from the caller's thread.

    At most one group is being embedded and one waits to be written, so memory stays at ~2 groups.
    Leaving the ``with`` block writes everything submitted; an error (embedding or store) is raised
    there, and groups after the failed one are neither embedded nor written.
    """

    def __init__(self, store: ChromaStore, embed_model: BaseEmbedding, chunking: Chunking) -> None:
        self.store = store
        self.embed_model = embed_model
        self.chunking = chunking
        self.chunks_written = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-embed")
        self._in_flight: deque[tuple[Group, Future[np.ndarray | None]]] = deque()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is None:
                self._write_ready(keep=0)
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, group: Group) -> None:
        """Start embedding ``group``; meanwhile write the group before it (if its vectors are ready)."""
        if not group:
            return
        self._in_flight.append((group, self._pool.submit(_embed_group, group, self.embed_model)))
        self._write_ready(keep=1)

    def _write_ready(self, keep: int) -> None:
        while len(self._in_flight) > keep:
            group, vectors = self._in_flight.popleft()
            self.chunks_written += _write(group, vectors.result(), self.store, self.chunking)


def _embed_group(group: Group, embed_model: BaseEmbedding) -> np.ndarray | None:
    nodes = [node for _, article_nodes in group for node in article_nodes]
    if not nodes:
        return None
    return embed_documents(embed_model, [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes])


def _write(group: Group, vectors: np.ndarray | None, store: ChromaStore, chunking: Chunking) -> int:
    nodes = [node for _, article_nodes in group for node in article_nodes]
    if vectors is not None:
        for node, vector in zip(nodes, vectors.tolist()):
            node.embedding = vector
    store.write_articles(group, chunking)  # articles whose text produced no chunk still get a record
    return len(nodes)
