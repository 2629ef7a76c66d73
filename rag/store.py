"""Chroma, embedded on disk or a ``chroma run`` server: chunk vectors plus a small article registry.

Two collections per index:
- ``<name>``: one record per chunk, written through llama-index's ``ChromaVectorStore`` so its retriever
  can read them back;
- ``<name>-articles``: one record per article, written LAST when an article is stored. An article is
  indexed only when its registry record exists with the same content hash, which makes every ingestion
  step safe to kill: the next run sees the missing or stale record and redoes that article.

The registry's collection metadata holds the index *generation*, a random token renewed before and
after every write or delete. Any process compares it with the generation its keyword index was built
from; chunk counts cannot tell a re-ingested article of the same length from the old one.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import BaseNode, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.errors import IndexMismatchError, StoreUnavailableError
from rag.settings import Settings
from rag.types import Article, DocumentInfo

_REGISTRY_SUFFIX = "-articles"
# Chroma stores no record without a vector; the registry's records need none, so they all get this one.
_NO_VECTOR = [0.0]
_PAGE = 2000


def connect(settings: Settings, fresh: bool = False) -> chromadb.api.ClientAPI:
    """An embedded client under the data dir, or an HTTP client when ``RAG_CHROMA_URL`` is set.
    ``fresh``: the embedded index is read from disk anew (``forget_embedded_index``)."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if not settings.chroma_url:
        path = Path(settings.data_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        if fresh:
            forget_embedded_index(path)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    url = urlparse(settings.chroma_url)
    if not url.hostname:
        raise StoreUnavailableError(f"RAG_CHROMA_URL={settings.chroma_url!r} is not a URL like http://127.0.0.1:8000")
    try:
        client = chromadb.HttpClient(host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https",
                                     settings=chroma_settings)
        client.heartbeat()
    except Exception as exc:  # chromadb raises several types (ValueError, httpx errors) for "not there"
        raise StoreUnavailableError(
            f"Cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__}). Start one with "
            f"`chroma run --path DIR --host {url.hostname} --port {url.port or 8000}`, "
            "or unset RAG_CHROMA_URL to use the embedded store."
        ) from exc
    return client


def forget_embedded_index(path: Path) -> None:
    """Make the next embedded client of ``path`` read the index from disk.

    Chroma keeps one System per folder per process, and its vector graph in memory learns only of this
    process's writes. After ``rag ingest`` added an article while ``rag serve`` ran on the same folder,
    the server's filtered dense searches failed ("Error finding id": every visitor's question carries a
    filter, so they were 500s) and unfiltered ones never found the article, until the server wrote
    something itself. Chroma has no per-folder reset (``clear_system_cache`` drops every folder's System
    and breaks the clients still holding them), so this folder's entry is dropped from its cache: a
    private dict, checked by a test. The old System is not stopped: a search running on it finishes, and
    it is freed with its last client."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(path), None)


DENSE_EF_SEARCH = 1000  # see ChromaStore._search_exhaustively
# Links per graph node (HNSW M; Chroma's default 16). With 600 near-identical bulletins and one other
# article, that article hung on a single incoming link, and a later insert pruning it left the article
# unreachable to every search: its passages were missing from the dense results in 13 of 1,800 graphs
# (Chroma builds in random order, and rebuilds a small collection in every process). At 32: 0 of 1,360,
# +7% on disk, the same add time on such data, +0.7 ms a query at 36K vectors (session 49,
# eval/EXPERIMENTS.md). Fixed when a collection is created; older collections keep 16 until re-created.
DENSE_MAX_NEIGHBORS = 32
# The space goes here, not in metadata ("hnsw:space"): given beside a configuration, that key was ignored
# and the collection silently measured L2.
_CHUNK_INDEX = {"hnsw": {"space": "cosine", "max_neighbors": DENSE_MAX_NEIGHBORS, "ef_search": DENSE_EF_SEARCH}}


class ChromaStore:
    """The chunk collection and its article registry, guarded against mixing embedding models."""

    def __init__(self, client: chromadb.api.ClientAPI, name: str, embed_id: str) -> None:
        self.client = client
        self.name = name
        self.embed_id = embed_id
        # An existing collection keeps the configuration it was created with (Chroma ignores this one).
        self.chunks = client.get_or_create_collection(name, metadata={"embed_model": embed_id},
                                                      configuration=_CHUNK_INDEX)  # type: ignore[arg-type]
        recorded = (self.chunks.metadata or {}).get("embed_model")
        if recorded != embed_id:
            raise IndexMismatchError(
                f"The index '{name}' was built with the embedding model {recorded!r}, not {embed_id!r}. "
                "Vectors of two models cannot be mixed: use the original RAG_EMBED_BACKEND, or another "
                "RAG_COLLECTION / RAG_DATA_DIR for the new model and ingest again."
            )
        self._search_exhaustively()
        self.registry = client.get_or_create_collection(name + _REGISTRY_SUFFIX)
        self.vector_store = ChromaVectorStore(chroma_collection=self.chunks)
        self.max_batch = max(1, min(client.get_max_batch_size(), 5000))
        self.known_generation = self.generation()  # as opened, then as this store last wrote it

    def _search_exhaustively(self) -> None:
        """Raise the graph search's breadth (HNSW ``ef_search``) to ``DENSE_EF_SEARCH``, once per index.

        At Chroma's default of 100, the 20 nearest passages of news_dev's 548 questions over the 2,000-
        article CNN index missed about 1% of the exact 20, a different 1% in each process; over 600 near-
        identical weather bulletins and one article, the article's passages were missing from the top 200
        in most runs, so the same search gave different answers. At 1000: none missed, 4.3 ms a query
        against 1.5 (2 cores; ``eval/EXPERIMENTS.md``, session 44). Only ``ef_search`` can change on a
        built index, and it is a setting of the collection, stored with it (every process reads it)."""
        hnsw = (self.chunks.configuration or {}).get("hnsw") or {}
        if int(hnsw.get("ef_search") or 0) < DENSE_EF_SEARCH:
            self.chunks.modify(configuration={"hnsw": {"ef_search": DENSE_EF_SEARCH}})

    # --- generation ---------------------------------------------------------------------------------
    def generation(self) -> str:
        """The current index generation ("" for an index never written since generations exist).

        Read fresh from Chroma each time (~1 ms): another process may have written since.
        """
        meta = self.client.get_collection(self.registry.name).metadata or {}
        return str(meta.get("generation", ""))

    def written_elsewhere(self, generation: str) -> bool:
        """Another client wrote the index since this one opened it or last wrote it itself."""
        return generation != self.known_generation

    def _renew_generation(self) -> None:
        """Called before a change (a kill mid-change leaves a generation no keyword index was built
        from) and after it (indexes built while it ran are stale)."""
        self.known_generation = uuid.uuid4().hex
        self.registry.modify(metadata={"generation": self.known_generation})

    def snapshot(self) -> ChunkSnapshot:
        """Every stored chunk, tagged with the generation read BEFORE reading them: a write that lands
        meanwhile renews the generation, so an index built from this is never wrongly taken as fresh."""
        return ChunkSnapshot(self.generation(), self)

    # --- articles -------------------------------------------------------------------------------
    def stored_versions(self, doc_ids: Sequence[str]) -> dict[str, StoredVersion]:
        """Content hash, chunking and facts of each article already completely stored."""
        found: dict[str, StoredVersion] = {}
        for begin in range(0, len(doc_ids), self.max_batch):
            page = self.registry.get(ids=list(doc_ids[begin:begin + self.max_batch]), include=["metadatas"])
            for doc_id, meta in zip(page["ids"], page["metadatas"] or []):
                meta = meta or {}
                # An index written before chunkings were recorded reads "": it never equals the current one.
                published = meta.get("published")
                facts = (str(meta.get("title", "")), str(meta.get("publisher", "")),
                         int(published) if published is not None else None)
                found[doc_id] = StoredVersion(str(meta.get("sha256", "")), str(meta.get("chunking", "")), facts)
        return found

    def write_articles(self, batch: Sequence[tuple[Article, Sequence[BaseNode]]],
                       chunking: Callable[[Article], str]) -> None:
        """Replace these articles' chunks in few round trips.

        The registry records are written last, so a kill at any point leaves the articles 'not stored'
        and the next run writes them again (chunk ids are deterministic, stale ones are deleted first).
        Each article's ``chunking`` (``rag.chunking.chunking_id``) is recorded so a change of chunker re-chunks it.
        """
        if not batch:
            return
        ids = [article.doc_id for article, _ in batch]
        self._renew_generation()
        self.registry.delete(ids=ids)
        self.chunks.delete(where={"doc_id": {"$in": ids}})
        all_nodes = [node for _, article_nodes in batch for node in article_nodes]
        for begin in range(0, len(all_nodes), self.max_batch):
            self.vector_store.add(all_nodes[begin:begin + self.max_batch])
        self.registry.upsert(
            ids=ids, embeddings=[_NO_VECTOR] * len(ids),
            metadatas=[_registry_record(article, len(nodes), chunking(article)) for article, nodes in batch],
        )
        self._renew_generation()

    def remove(self, doc_id: str) -> bool:
        """Delete an article and its chunks; False when no such article was indexed."""
        return bool(self.remove_articles([doc_id]))

    def remove_articles(self, doc_ids: Sequence[str]) -> list[str]:
        """Delete these articles and their chunks; returns the ids that were indexed."""
        known = [doc_id for begin in range(0, len(doc_ids), self.max_batch)
                 for doc_id in self.registry.get(ids=list(doc_ids[begin:begin + self.max_batch]), include=[])["ids"]]
        if not known:
            return []
        self._renew_generation()
        for begin in range(0, len(known), self.max_batch):
            page = known[begin:begin + self.max_batch]
            self.registry.delete(ids=page)  # registry first: a kill never leaves a listed, half-deleted article
            self.chunks.delete(where={"doc_id": {"$in": page}})
        self._renew_generation()
        return known

    def articles_of_file(self, source: str, name: str) -> list[str]:
        """Ids of the indexed articles read from one JSON Lines file (sources ``<source>#<key>``)."""
        prefix = source + "#"
        return [doc_id for ids, metas in self._pages(self.registry, include=["metadatas"], where={"source_name": name})
                for doc_id, meta in zip(ids, metas) if str((meta or {}).get("source", "")).startswith(prefix)]

    def articles_under(self, folder: Path) -> dict[str, str]:
        """doc_id -> source of every indexed article read from a file under ``folder`` (a resolved path)."""
        prefix = str(folder).rstrip(os.sep) + os.sep
        return {doc_id: str((meta or {}).get("source", "")) for ids, metas in self._pages(self.registry, include=["metadatas"])
                for doc_id, meta in zip(ids, metas) if str((meta or {}).get("source", "")).startswith(prefix)}

    def documents(self) -> list[DocumentInfo]:
        infos = []
        for ids, metas in self._pages(self.registry, include=["metadatas"]):
            infos.extend(_document_info(doc_id, meta or {}) for doc_id, meta in zip(ids, metas))
        return sorted(infos, key=lambda d: (d.source_name, d.title))

    # --- chunks ---------------------------------------------------------------------------------
    def count_chunks(self) -> int:
        return self.chunks.count()

    def iter_nodes(self) -> Iterator[TextNode]:
        """Every stored chunk as a llama-index node (for building the keyword index)."""
        for ids, metas, texts in self._pages(self.chunks, include=["metadatas", "documents"]):
            for meta, text in zip(metas, texts):
                yield metadata_dict_to_node(meta, text=text)

    def article_texts(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """The stored text of these articles, rebuilt from their chunks at their article offsets, so that
        a hit's ``start``/``end`` index it as they index the article (``join_at_offsets``)."""
        if not doc_ids:
            return {}
        page = self.chunks.get(where={"doc_id": {"$in": list(dict.fromkeys(doc_ids))}},
                               include=["metadatas", "documents"])
        pieces: dict[str, list[tuple[int | None, int, str]]] = {}
        for meta, text in zip(page["metadatas"] or [], page["documents"] or []):
            meta = meta or {}
            position = int(meta.get("position", 0) or 0)
            pieces.setdefault(str(meta.get("doc_id", "")), []).append((_chunk_start(meta, text or ""), position, text or ""))
        return {doc_id: join_at_offsets(parts) for doc_id, parts in pieces.items()}

    def _pages(self, collection, include: list[str], where: dict | None = None) -> Iterator[tuple]:  # type: ignore[no-untyped-def,type-arg]
        offset = 0
        while True:
            page = collection.get(limit=_PAGE, offset=offset, include=include, where=where)
            if not page["ids"]:
                return
            yield (page["ids"], *(page[key] for key in include))
            offset += len(page["ids"])


def _chunk_start(meta: dict, text: str) -> int | None:  # type: ignore[type-arg]
    """A stored chunk's article offset (llama-index keeps it in the node's serialised content)."""
    try:
        return metadata_dict_to_node(meta, text=text).start_char_idx
    except (ValueError, KeyError, TypeError):
        return None


def join_at_offsets(chunks: Sequence[tuple[int | None, int, str]]) -> str:
    """One article's text from its chunks as ``(article offset, position, text)``: each chunk is laid at
    its offset, the words neighbouring chunks share written once, a gap (whitespace the splitter left
    out) kept as spaces. Joining the chunks end to end instead repeats each overlap and shifts every
    later offset: the second look's window around a chosen sentence slid away from it. A chunk whose
    offset cannot be read follows the text after a newline."""
    text = ""
    for start, _position, chunk in sorted(chunks, key=lambda c: (c[1], c[0] or 0)):
        if start is None:
            text += ("\n" if text else "") + chunk
        elif start >= len(text):
            text += " " * (start - len(text)) + chunk
        else:
            text += chunk[len(text) - start:]
    return text


class StoredVersion(NamedTuple):
    """What an indexed article's chunks were made from: its text (by hash), the chunking, and the facts
    every chunk carries (the title is embedded with each, the date and publisher filter searches)."""

    sha256: str
    chunking: str
    facts: tuple[str, str, int | None]

    @classmethod
    def of(cls, article: Article, chunking: str) -> StoredVersion:
        return cls(article.sha256, chunking, (article.title, article.publisher, article.published))


@dataclass(frozen=True)
class ChunkSnapshot:
    """``ChromaStore.iter_nodes`` plus the generation read before it (what ``KeywordIndex.rebuild`` stamps)."""

    generation: str
    store: ChromaStore

    def __iter__(self) -> Iterator[TextNode]:
        return self.store.iter_nodes()


def _registry_record(article: Article, chunks: int, chunking: str) -> dict[str, str | int]:
    record: dict[str, str | int] = {
        "title": article.title, "source": article.source, "source_name": article.source_name,
        "publisher": article.publisher, "sha256": article.sha256, "chunks": chunks, "chunking": chunking,
        "ingested_at": int(time.time()),
    }
    if article.published is not None:
        record["published"] = article.published
    return record


def _document_info(doc_id: str, meta: dict) -> DocumentInfo:  # type: ignore[type-arg]
    return DocumentInfo(
        doc_id=doc_id, title=str(meta.get("title", "")), source=str(meta.get("source", "")),
        source_name=str(meta.get("source_name", "")), chunks=int(meta.get("chunks", 0)),
        sha256=str(meta.get("sha256", "")), ingested_at=int(meta.get("ingested_at", 0)),
        publisher=str(meta.get("publisher", "")),
        published=int(meta["published"]) if "published" in meta else None,
    )
