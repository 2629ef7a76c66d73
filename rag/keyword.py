"""BM25 keyword search over the stored chunks, persisted beside the index.

Chroma has no local sparse search, so the app keeps one: built when ingestion changes the index and
loaded from disk afterwards, never rebuilt per query. Its stamp records the store's *generation*
(``ChromaStore.generation``, a token renewed by every write) it was built from: a process whose
index carries another generation than the store's loads the newer copy, or rebuilds once.

Its statistics (how many passages hold a word, how long a passage is, the archive's language, which words
it writes as names) are drawn from the articles the server's operator indexed, not from visitors' uploads
(``uncounted``): a stranger's hidden upload of 300 German lines turned every visitor's English archive
German, stemmed their questions by the German rules and moved every passage's score.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import bm25s
import numpy as np
from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.vector_stores.types import MetadataFilters

from rag.languages import function_words, read_archive
from rag.text import (COMBINING_MARKS, ScriptStemmer, ascii_digits, spaced_pairs, undotted, written_as_name,
                      written_in_lower_case)
from rag.uploads import in_folder

if TYPE_CHECKING:
    from llama_index.retrievers.bm25 import BM25Retriever  # imported when first built: it loads bm25s

_STAMP = "news_rag_stamp.json"
_COUNTED = "news_rag_counted.npz"  # which passages and words the statistics were drawn from
# How the index's words were cut. 2 (session 41): each word stemmed by its script's rules and Latin script
# by the archive's language (``ScriptStemmer``); 1 (no field): English rules for every word. A copy of
# another tokenisation counts as no copy: the next ingest or search rebuilds it once. 3: Turkish
# "İ" read as "I" (``_searchable``; it was cut into "i" + a dot + the rest) and "ı" as "i", "佐々木"'s
# iteration mark as Han. 4: every script's digits read as 0-9 ("۱۰" is 10). 5: a word its rules stem to nothing
# (Greek "όταν", an Arabic tatweel) kept whole: it was bm25s' empty token, and a question holding one failed.
# 6: a word's combining marks are part of it (``_TOKEN_PATTERN``), and Devanagari and Tamil words are stemmed.
_TOKENISATION = 6
# BM25Retriever's defaults: the corpus is tokenised with them here, queries with them after loading.
_LANGUAGE = "en"
# A word: two or more word characters or combining marks. bm25s' and llama-index's default, r"\b\w\w+\b", leaves
# the marks out (``re``'s \w has none), and the vowel signs of Hindi, Bengali, Tamil, Thai... are marks: "मोदी ने
# कहा" was indexed as "कह" alone, Tamil "பாலம்" as "லம", and keyword search found nothing or a word's fragment.
_TOKEN_PATTERN = rf"(?u)[\w{COMBINING_MARKS}]{{2,}}"
_NAME_SAMPLE = 20  # passages read to tell whether the archive writes a word as a name
logging.getLogger("bm25s").setLevel(logging.WARNING)
# "BM25 requires k less than or equal to number of nodes added": every search a filter narrows below k
# printed it on stderr. Asking for more passages than a filter leaves is expected; fewer come back.
logging.getLogger("llama_index.retrievers.bm25.base").setLevel(logging.ERROR)


class KeywordIndex:
    """A llama-index ``BM25Retriever`` with a directory to live in.

    ``uncounted``: a folder (the visitors' uploads) whose articles are searched like any other but do not
    weigh in the statistics; None counts every article (``RAG_SHARED_UPLOADS``: a team's uploads are its
    archive). A copy built with another folder counts as none, so it is rebuilt once."""

    def __init__(self, directory: Path, uncounted: Path | None = None) -> None:
        self.directory = directory
        self.uncounted = str(Path(uncounted).resolve()) if uncounted is not None else None
        self._loaded = _Loaded()  # replaced whole by ``load``: searches run while another thread loads

    @property
    def chunks(self) -> int:
        return self._loaded.chunks

    @property
    def generation(self) -> str | None:
        """The store generation of the index in memory (None: nothing loaded)."""
        return self._loaded.generation

    @property
    def latin(self) -> str | None:
        """The Snowball rules its Latin-script words were cut by (None: nothing loaded, or empty)."""
        retriever = self._loaded.retriever
        return retriever.stemmer.latin if retriever is not None else None

    def archive_language(self) -> str | None:
        """The language most of the archive is written in (``rag.languages.read_archive``), as the
        last build read it; None for a mixed or empty archive. Read from disk when nothing is loaded."""
        loaded = self._loaded
        if loaded.generation is not None:
            return loaded.language
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
        retriever, language, counted = _build_retriever(nodes, self._counts)
        staging = self._staging_name()
        staging.mkdir(parents=True)
        try:
            chunks = len(retriever.corpus) if retriever is not None else 0
            latin = retriever.stemmer.latin if retriever is not None else "english"
            if retriever is not None:
                with contextlib.redirect_stderr(io.StringIO()):  # bm25s draws tqdm bars while saving
                    retriever.persist(str(staging))
                counted.save(staging / _COUNTED)
            del retriever  # loaded back below: never two copies in memory
            (staging / _STAMP).write_text(json.dumps({"chunks": chunks, "generation": generation, "latin": latin,
                                                      "language": language, "tokenisation": _TOKENISATION,
                                                      "uncounted": self.uncounted}))
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
                retriever = BM25Retriever.from_persist_dir(str(self.directory)) if chunks else None
            if retriever is not None:  # the stemmer and word pattern are not persisted: queries must be cut as
                retriever.stemmer = ScriptStemmer(stamp["latin"])  # the archive was
                retriever.token_pattern = _TOKEN_PATTERN
            counted = _Counted.load(self.directory / _COUNTED) if chunks else _Counted.everything()
        # One assignment: a search reading the new vocabulary with the old counts failed (IndexError).
        self._loaded = _Loaded(retriever, counted, chunks, stamp.get("generation"), stamp.get("language"))
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
        readable = (isinstance(stamp, dict) and stamp.get("tokenisation") == _TOKENISATION
                    and stamp.get("uncounted") == self.uncounted and (not stamp.get("chunks")
                                                                      or (self.directory / _COUNTED).exists()))
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

    def _counts(self, node: TextNode) -> bool:
        """Whether this passage weighs in the statistics: not when its article is a visitor's upload."""
        return self.uncounted is None or not in_folder(str(node.metadata.get("source", "")), self.uncounted)

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
        loaded = self._loaded
        retriever = loaded.retriever
        if retriever is None:
            return 0.0
        tokens = bm25s.tokenize(_searchable(query), stemmer=retriever.stemmer, token_pattern=retriever.token_pattern,
                                stopwords=_stopwords(retriever.stemmer.latin), return_ids=False, show_progress=False)[0]
        vocabulary = retriever.bm25.vocab_dict
        counted = loaded.counted.words
        return sum(token in vocabulary and counted(vocabulary[token]) for token in tokens) / len(tokens) if tokens else 0.0

    def writes_as_name(self, word: str) -> bool:
        """Whether the archive writes ``word`` as a name: capitalised inside a sentence more often than
        not, in the passages keyword search finds for it (``rag.text.written_as_name``). A question asked
        in another language than the archive's names things in its own words: German capitalises every
        noun ("Prozent", "Formate", "Herde"), and French spells names otherwise ("Yémen"); only the
        words the archive itself writes as names can be looked for in its articles."""
        return written_as_name(word, self._case_sample(word))

    def writes_in_lower_case(self, word: str) -> bool:
        """Whether the archive writes ``word`` in lower case more often than capitalised inside a sentence
        (``rag.text.written_in_lower_case``): how a question written in capitals is read
        (``rag.text.without_shouting``). A stop word, which keyword search does not find, is."""
        retriever = self._loaded.retriever
        if retriever is not None and undotted(word).lower() in _stopwords(retriever.stemmer.latin):
            return True
        return written_in_lower_case(word, self._case_sample(word))

    def _case_sample(self, word: str) -> Iterator[str]:
        """The passages keyword search finds for ``word`` among the operator's: where its case is read."""
        return (hit.node.get_content() for hit in self._search(word, _NAME_SAMPLE, counted_only=True))

    def search(self, query: str, k: int, filters: MetadataFilters | None = None) -> list[NodeWithScore]:
        return self._search(query, k, filters)

    def _search(self, query: str, k: int, filters: MetadataFilters | None = None,
                counted_only: bool = False) -> list[NodeWithScore]:
        """The best ``k`` passages, among those ``filters`` keep, or those the statistics were drawn from."""
        from llama_index.retrievers.bm25 import BM25Retriever

        loaded = self._loaded
        if loaded.retriever is None or not query.strip():
            return []
        shared = loaded.retriever.bm25
        try:  # one retriever per search, over the shared BM25 matrix: setting the shared one's top k raced
            retriever = BM25Retriever(existing_bm25=shared, filters=filters, similarity_top_k=min(k, len(shared.corpus)),
                                      stemmer=loaded.retriever.stemmer, token_pattern=_TOKEN_PATTERN,
                                      corpus_weight_mask=loaded.counted.passage_mask() if counted_only else None)
        except ValueError:  # every chunk filtered out
            return []
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


def _build_retriever(nodes: Iterable[TextNode], counts: Callable[[TextNode], bool] = lambda node: True,
                     ) -> tuple[BM25Retriever | None, str | None, _Counted]:
    """``BM25Retriever.from_defaults(nodes=...)`` without holding every node in memory, its statistics
    drawn from the passages ``counts`` keeps (``_CountedBM25``).

    llama-index needs the whole node list (it walks it twice); at 80,000 chunks those objects cost
    ~700 MB on top of the index. Each node is reduced to what the retriever keeps (its serialised
    form and its text) as it streams from the store. The tokenisation is the retriever's own with
    its defaults, which are also what ``from_persist_dir`` uses for queries (they are not persisted),
    on texts (and queries, ``search``) whose Chinese or Japanese runs are spaced into character pairs
    (``_searchable``): its word pattern would otherwise take a whole clause for one word. Its stemmer
    is not its default (English rules for every word) but ``ScriptStemmer``, with the archive's language
    for Latin-script words (``read_archive``, of the counted passages). Returned with the archive's
    language and what was counted.
    """
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict
    from llama_index.retrievers.bm25 import BM25Retriever

    corpus: list[dict] = []  # type: ignore[type-arg]
    texts: list[str] = []
    counted: list[bool] = []
    for node in nodes:
        corpus.append(node_to_metadata_dict(node) | {"node_id": node.node_id})
        texts.append(spaced_pairs(node.get_content(metadata_mode=MetadataMode.EMBED)))
        counted.append(counts(node))
    if not corpus:
        return None, None, _Counted.everything()
    if not any(counted):  # only uploads: they are all there is to weigh
        counted = [True] * len(counted)
    # read as written: "İ" is a sign of Turkish
    language, latin = read_archive([text for text, weighs in zip(texts, counted) if weighs])
    for n, text in enumerate(texts):  # in place: never two copies of the archive's text
        texts[n] = undotted(ascii_digits(text))  # = _searchable(content): both keep unspaced runs as they are
    stemmer = ScriptStemmer(latin)
    tokens = bm25s.tokenize(texts, stopwords=_stopwords(stemmer.latin), stemmer=stemmer, token_pattern=_TOKEN_PATTERN,
                            show_progress=False)
    del texts
    bm25 = _CountedBM25(counted)
    bm25.index(tokens, show_progress=False)
    bm25.corpus = corpus
    retriever = BM25Retriever(existing_bm25=bm25, stemmer=stemmer, language=_LANGUAGE, token_pattern=_TOKEN_PATTERN,
                              similarity_top_k=min(10, len(corpus)))
    return retriever, language, _Counted(np.asarray(counted, dtype=bool), bm25.counted_words)


@dataclass(frozen=True)
class _Loaded:
    """What one load of the index holds, swapped whole (default: nothing loaded)."""

    retriever: BM25Retriever | None = None  # None: an empty index, or nothing loaded
    counted: _Counted = field(default_factory=lambda: _Counted.everything())
    chunks: int = -1  # chunk count it was built from; -1 = not loaded
    generation: str | None = None  # store generation it was built from; None = not loaded
    language: str | None = None  # the archive's language when it was built (None: mixed, or not loaded)


class _Counted:
    """Which passages, and which words (by vocabulary id), the statistics were drawn from."""

    def __init__(self, passages: np.ndarray | None, words: np.ndarray | None) -> None:
        self._passages, self._words = passages, words  # None: all of them

    @classmethod
    def everything(cls) -> _Counted:
        return cls(None, None)

    @classmethod
    def load(cls, path: Path) -> _Counted:
        with np.load(path) as saved:
            return cls(saved["passages"], saved["words"])

    def save(self, path: Path) -> None:
        if self._passages is not None and self._words is not None:
            with open(path, "wb") as handle:  # a file name of np.savez's would get ".npz" appended
                np.savez(handle, passages=self._passages, words=self._words)

    def passage_mask(self) -> list[int] | None:
        """``BM25Retriever``'s ``corpus_weight_mask`` for the counted passages; None when all count."""
        return None if self._passages is None or self._passages.all() else self._passages.astype(int).tolist()

    def words(self, word_id: int) -> bool:
        """Whether the counted passages hold this word; bm25s' empty token (after the vocabulary) never."""
        return self._words is None or (word_id < len(self._words) and bool(self._words[word_id]))


class _CountedBM25(bm25s.BM25):
    """bm25s' BM25 (its default Lucene variant) scoring every passage, with the statistics of some.

    bm25s draws a word's weight (how many passages hold it) and the average passage length from every
    passage it indexes, and has no way to draw them from a part: an upload only its uploader reads still
    moved every other visitor's scores. ``build_index_from_ids`` is the override bm25s offers ("if you
    want to build the index in a different way"); the score matrix it returns is bm25s' own format, so
    the index saves, loads and searches as bm25s' does. Equal to bm25s' own index when every passage counts.
    """

    def __init__(self, counted: Sequence[bool], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        if self.method != "lucene" or self.idf_method not in (None, "lucene"):
            raise ValueError("only the Lucene variant is written here")
        self.counted = np.asarray(counted, dtype=bool)
        self.counted_words: np.ndarray | None = None

    def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True,  # type: ignore[no-untyped-def]
                             leave_progress=False):
        """The score of each (passage, word) pair: idf(word) * tf / (tf + k1 * (1 - b + b * length / average)),
        idf = ln(1 + (N - df + 0.5) / (df + 0.5)), N, df and the average over the counted passages only."""
        n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
        words_of = [np.unique(np.asarray(ids, dtype=np.int64), return_counts=True) for ids in corpus_token_ids]
        lengths = np.fromiter((len(ids) for ids in corpus_token_ids), dtype=np.float64, count=n_docs)
        doc_ids = np.repeat(np.arange(n_docs), [len(words) for words, _ in words_of])
        word_ids = np.concatenate([words for words, _ in words_of]) if n_docs else np.zeros(0, np.int64)
        tf = np.concatenate([counts for _, counts in words_of]).astype(np.float64) if n_docs else np.zeros(0)
        del words_of
        self.nonoccurrence_array = None  # what bm25s' own build sets for Lucene (only BM25L and BM25+ use one)
        counted = self.counted  # never all False: ``_build_retriever`` counts everything then
        df = np.bincount(word_ids[counted[doc_ids]], minlength=n_vocab)
        self.counted_words = df > 0
        average = max(float(lengths[counted].mean()), 1e-9)  # a corpus of empty passages scores nothing either way
        idf = np.log1p((counted.sum() - df + 0.5) / (df + 0.5))
        scores = idf[word_ids] * tf / (tf + self.k1 * (1 - self.b + self.b * lengths[doc_ids] / average))
        order = np.lexsort((doc_ids, word_ids))  # bm25s' matrix is by word (compressed sparse column)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(word_ids, minlength=n_vocab))])
        return {"data": scores[order].astype(self.dtype), "indices": doc_ids[order].astype(self.int_dtype),
                "indptr": indptr.astype(self.int_dtype), "num_docs": n_docs}
