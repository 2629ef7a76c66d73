"""BM25 keyword search over the stored chunks, persisted beside the index.

Chroma has no local sparse search, so the app keeps one: built when ingestion changes the index and
loaded from disk afterwards, never rebuilt per query. Its stamp records the store's *generation*
(``ChromaStore.generation``, a token renewed by every write) it was built from: a process whose
index carries another generation than the store's loads the newer copy, or rebuilds once.

Several processes (UI, CLI, eval) may share the folder. Each builds into its own staging folder;
the swap into place holds an exclusive ``flock`` and a load holds a shared one, so no process ever
reads a half-replaced index or deletes another's work.
"""

from __future__ import annotations

import contextlib
import functools
import fcntl
import io
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.vector_stores.types import MetadataFilters

from rag.languages import function_words, read_archive
from rag.text import ScriptStemmer, ascii_digits, spaced_pairs, undotted, written_as_name

if TYPE_CHECKING:
    from llama_index.retrievers.bm25 import BM25Retriever  # imported when first built: it loads bm25s

_STAMP = "news_rag_stamp.json"
# How the index's words were cut. 2 (session 41): each word stemmed by its script's rules and Latin script
# by the archive's language (``ScriptStemmer``); 1 (no field): English rules for every word. A copy of
# another tokenisation counts as no copy: the next ingest or search rebuilds it once. 3: Turkish
# "İ" read as "I" (``_searchable``; it was cut into "i" + a dot + the rest) and "ı" as "i", "佐々木"'s
# iteration mark as Han. 4: every script's digits read as 0-9 ("۱۰" is 10).
_TOKENISATION = 4
# BM25Retriever's defaults: the corpus is tokenised with them here, queries with them after loading.
_LANGUAGE = "en"
_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_NAME_SAMPLE = 20  # passages read to tell whether the archive writes a word as a name
logging.getLogger("bm25s").setLevel(logging.WARNING)
# "BM25 requires k less than or equal to number of nodes added": every search a filter narrows below k
# printed it on stderr. Asking for more passages than a filter leaves is expected; fewer come back.
logging.getLogger("llama_index.retrievers.bm25.base").setLevel(logging.ERROR)


class KeywordIndex:
    """A llama-index ``BM25Retriever`` with a directory to live in."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._retriever = None  # BM25Retriever | None (None = empty index)
        self._chunks = -1  # chunk count it was built from; -1 = not loaded
        self._generation: str | None = None  # store generation it was built from; None = not loaded
        self._language: str | None = None  # the archive's language when it was built (None: mixed, or not loaded)

    @property
    def chunks(self) -> int:
        return self._chunks

    @property
    def generation(self) -> str | None:
        """The store generation of the index in memory (None: nothing loaded)."""
        return self._generation

    @property
    def latin(self) -> str | None:
        """The Snowball rules its Latin-script words were cut by (None: nothing loaded, or empty)."""
        return self._retriever.stemmer.latin if self._retriever is not None else None

    def archive_language(self) -> str | None:
        """The language most of the archive is written in (``rag.languages.read_archive``), as the
        last build read it; None for a mixed or empty archive. Read from disk when nothing is loaded."""
        if self._generation is not None:
            return self._language
        with self._locked(fcntl.LOCK_SH):
            return self._stamp().get("language")

    def persisted_generation(self) -> str | None:
        """The store generation of the copy on disk, without loading it (a no-op ingest reads only this)."""
        with self._locked(fcntl.LOCK_SH):
            return self._stamp().get("generation")

    def rebuild(self, nodes: Iterable[TextNode], generation: str | None = None) -> None:
        """Index these nodes and persist them atomically (a kill leaves the previous copy).

        ``generation`` is the store generation the nodes were read at (``ChromaStore.snapshot``
        carries it); without one the copy counts as stale and the next query rebuilds it.
        """
        if generation is None:
            generation = getattr(nodes, "generation", None)
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        retriever, language = _build_retriever(nodes)
        staging = self._staging_name()
        staging.mkdir(parents=True)
        try:
            chunks = len(retriever.corpus) if retriever is not None else 0
            latin = retriever.stemmer.latin if retriever is not None else "english"
            if retriever is not None:
                with contextlib.redirect_stderr(io.StringIO()):  # bm25s draws tqdm bars while saving
                    retriever.persist(str(staging))
            del retriever  # loaded back below: never two copies in memory
            (staging / _STAMP).write_text(json.dumps({"chunks": chunks, "generation": generation, "latin": latin,
                                                      "language": language, "tokenisation": _TOKENISATION}))
            with self._locked(fcntl.LOCK_EX):
                self._remove_abandoned_staging()
                old = self.directory.with_name(f"{staging.name}.old")
                if self.directory.exists():
                    self.directory.rename(old)
                staging.rename(self.directory)
                shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # only left when an error stopped the swap
        self.load()  # the loaded form carries its corpus, which per-query filters need

    def load(self, generation: str | None = None) -> bool:
        """Load the persisted index; False when there is none (or it is not of ``generation``)."""
        from llama_index.retrievers.bm25 import BM25Retriever

        with self._locked(fcntl.LOCK_SH):
            stamp = self._stamp()
            if not stamp or (generation is not None and stamp.get("generation") != generation):
                return False
            chunks = int(stamp["chunks"])
            with contextlib.redirect_stderr(io.StringIO()):  # bm25s draws a tqdm bar while loading
                self._retriever = BM25Retriever.from_persist_dir(str(self.directory)) if chunks else None
            if self._retriever is not None:  # the stemmer is not persisted: queries must be cut as the archive was
                self._retriever.stemmer = ScriptStemmer(stamp["latin"])
        self._chunks = chunks
        self._generation = stamp.get("generation")
        self._language = stamp.get("language")
        return True

    def _stamp(self) -> dict:  # type: ignore[type-arg]
        """The copy's stamp; empty (so the copy is rebuilt) when there is none, it was cut by another
        tokenisation, or it cannot be read (a disk error, a hand edit): the store holds every passage."""
        import Stemmer

        path = self.directory / _STAMP
        try:
            stamp = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return {}
        readable = isinstance(stamp, dict) and stamp.get("tokenisation") == _TOKENISATION
        return stamp if readable and stamp.get("latin") in Stemmer.algorithms() else {}

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        """Shared (readers) or exclusive (the swap) lock on a file beside the index, across processes."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        with open(self.directory.with_name(self.directory.name + ".lock"), "a+") as handle:
            fcntl.flock(handle, mode)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _staging_name(self) -> Path:
        """Unique per process and call: two rebuilds never share (or delete) a staging folder."""
        return self.directory.with_name(f"{self.directory.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")

    def _remove_abandoned_staging(self) -> None:
        """Staging folders of processes that died mid-rebuild (a kill); called under the exclusive lock."""
        for folder in self.directory.parent.glob(f"{self.directory.name}.tmp-*"):
            pid = folder.name.removeprefix(f"{self.directory.name}.tmp-").split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)

    def coverage(self, query: str) -> float:
        """The share of the query's words (as BM25 tokenises them) that occur anywhere in the index: the
        part of the question keyword search can see. An English question over a Chinese archive sees
        ~7% of it (years, Latin acronyms) and ranks by that alone; one in the archive's language, 85-100%."""
        if self._retriever is None:
            return 0.0
        import bm25s

        retriever = self._retriever
        tokens = bm25s.tokenize(_searchable(query), stemmer=retriever.stemmer, token_pattern=retriever.token_pattern,
                                stopwords=_stopwords(retriever.stemmer.latin), return_ids=False, show_progress=False)[0]
        vocabulary = retriever.bm25.vocab_dict
        return sum(token in vocabulary for token in tokens) / len(tokens) if tokens else 0.0

    def writes_as_name(self, word: str) -> bool:
        """Whether the archive writes ``word`` as a name: capitalised inside a sentence more often than
        not, in the passages keyword search finds for it (``rag.text.written_as_name``). A question asked
        in another language than the archive's names things in its own words: German capitalises every
        noun ("Prozent", "Formate", "Herde"), and French spells names otherwise ("Yémen"); only the
        words the archive itself writes as names can be looked for in its articles."""
        hits = self.search(word, _NAME_SAMPLE)
        return written_as_name(word, (hit.node.get_content() for hit in hits))

    def search(self, query: str, k: int, filters: MetadataFilters | None = None) -> list[NodeWithScore]:
        if self._retriever is None or not query.strip():
            return []
        retriever = self._retriever
        total = len(retriever.corpus)
        if filters is not None:
            from llama_index.retrievers.bm25 import BM25Retriever

            try:  # the filter mask is built at construction; the BM25 matrix itself is shared
                retriever = BM25Retriever(existing_bm25=retriever.bm25, filters=filters, similarity_top_k=k,
                                          stemmer=retriever.stemmer)
            except ValueError:  # every chunk filtered out
                return []
        retriever.similarity_top_k = min(k, total)
        return [hit for hit in retriever.retrieve(_searchable(query)) if hit.score and hit.score > 0]


def _searchable(text: str) -> str:
    """``text`` as BM25 reads it, a passage or a query alike: unspaced-script runs in character pairs
    (``spaced_pairs``), Turkish "İ" as "I" (``undotted``: bm25s lower-cases it to "i" and a combining dot,
    a word boundary to its pattern, so "İzmir" was indexed as "zmir" and a search for "izmir" met nothing),
    and every script's digits as 0-9 (``ascii_digits``: "۱۰" and "10" are one number)."""
    return spaced_pairs(undotted(ascii_digits(text)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


@functools.lru_cache(maxsize=8)
def _stopwords(latin: str) -> tuple[str, ...]:
    """The words left out of the index: English ones (the query side of llama-index's retriever always
    drops those), Russian ones (Cyrillic words are cut by the Russian rules) and those of the archive's
    Latin-script language where bm25s has a list. A query's other stop words then meet nothing."""
    lists = [_LANGUAGE, "russian"] + ([latin] if latin != "english" else [])
    # a language bm25s has no list for keeps its words
    return tuple(sorted(set().union(*map(function_words, lists))))  # kept: ``coverage`` asks for them on every search


def _build_retriever(nodes: Iterable[TextNode]) -> tuple[BM25Retriever | None, str | None]:
    """``BM25Retriever.from_defaults(nodes=...)`` without holding every node in memory.

    llama-index needs the whole node list (it walks it twice); at 80,000 chunks those objects cost
    ~700 MB on top of the index. Each node is reduced to what the retriever keeps (its serialised
    form and its text) as it streams from the store. The tokenisation is the retriever's own with
    its defaults, which are also what ``from_persist_dir`` uses for queries (they are not persisted),
    on texts (and queries, ``search``) whose Chinese or Japanese runs are spaced into character pairs
    (``_searchable``): its word pattern would otherwise take a whole clause for one word. Its stemmer
    is not its default (English rules for every word) but ``ScriptStemmer``, with the archive's language
    for Latin-script words (``read_archive``). Returned with the archive's language.
    """
    import bm25s
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict
    from llama_index.retrievers.bm25 import BM25Retriever

    corpus: list[dict] = []  # type: ignore[type-arg]
    texts: list[str] = []
    for node in nodes:
        corpus.append(node_to_metadata_dict(node) | {"node_id": node.node_id})
        texts.append(spaced_pairs(node.get_content(metadata_mode=MetadataMode.EMBED)))
    if not corpus:
        return None, None
    language, latin = read_archive(texts)  # read as written: "İ" is a sign of Turkish
    for n, text in enumerate(texts):  # in place: never two copies of the archive's text
        texts[n] = undotted(ascii_digits(text))  # = _searchable(content): both keep unspaced runs as they are
    stemmer = ScriptStemmer(latin)
    tokens = bm25s.tokenize(texts, stopwords=_stopwords(stemmer.latin), stemmer=stemmer, token_pattern=_TOKEN_PATTERN,
                            show_progress=False)
    del texts
    bm25 = bm25s.BM25()
    bm25.index(tokens, show_progress=False)
    bm25.corpus = corpus
    retriever = BM25Retriever(existing_bm25=bm25, stemmer=stemmer, language=_LANGUAGE, token_pattern=_TOKEN_PATTERN,
                              similarity_top_k=min(10, len(corpus)))
    return retriever, language
