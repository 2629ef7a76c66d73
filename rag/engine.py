"""``NewsRAG``: the one object the CLI, the UI, the eval suite and Python users talk to."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import cache, cached_property, partial
from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding

from rag.answer_cache import AnswerCache, AnswerFile, answer_key, served_from_cache
from rag.answering import CitedQueryEngine
from rag.chunking import make_splitter
from rag.context import embedding_scorer
from rag.conversation import standalone_question
from rag.embedding import build_embed_model, embed_model_id, embed_question_and_passages, language_advice
from rag.errors import ConfigError, InputTooLong, NotAnUpload, NotYourUpload, RagError
from rag.generation import ChatClient, Message, build_chat_client
from rag.ingest import Progress, ingest_paths
from rag.json_file import exclusive
from rag.keyword import KeywordIndex
from rag.model_files import MODEL_FILENAME
from rag.retrieval import HybridRetriever, SearchFilters, SearchMode
from rag.settings import Settings
from rag.store import ChromaStore, connect
from rag.suggestions import SuggestionRun, SuggestionStore, stored_questions, write_question, write_suggestions
from rag.text import check_unicode, shouted, without_shouting
from rag.types import Answer, DocumentInfo, Hit, IngestReport
from rag.uploads import (Intake, RemovalKeys, SenderRoom, UploadSenders, file_name, forget_upload, marked_uploads,
                         removal_key, save_uploads, upload_dir, without_folder)


WRITE_TURN = "index-writes"  # the data folder's write lock (``NewsRAG._write_turn``): .index-writes.lock


class NewsRAG:
    """Index news articles and answer questions about them with cited sources.

    Everything heavy (embedding model, Chroma client, language model) is created on first use, so
    constructing one is cheap and ``rag config`` works even when a server is down.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._lock = threading.RLock()  # the keyword index: loaded, rebuilt and swapped by one thread at a time
        # One ingestion or removal at a time. Not the keyword lock: answering waited for a whole upload
        # (a 360 KB file held every visitor's question for 22 s; a 20 MB one would hold it for minutes).
        self._writing = threading.Lock()
        # Answers to the example questions, shared with the UI's per-session views (shallow copies): their
        # settings are part of every key. The questions the engine asked itself, writing examples.
        self._answers = self._new_answer_cache()
        self._examples_asked: set[str] = set()
        self._server_names: tuple[str | None, set[str]] = (None, set())  # (generation, ``_server_file_names``)

    # --- components, created on first use ----------------------------------------------------------
    @cached_property
    def embed_model(self) -> BaseEmbedding:
        # Passed explicitly to every llama-index object that embeds; llama-index's global ``Settings`` are
        # left alone (other code in the process may use them), and no llama-index object here needs an LLM.
        return build_embed_model(self.settings)

    @cached_property
    def store(self) -> ChromaStore:
        return self._open_store()

    def _open_store(self, fresh: bool = False) -> ChromaStore:
        return ChromaStore(connect(self.settings, fresh), self.settings.collection, embed_model_id(self.embed_model))

    @cached_property
    def keyword(self) -> KeywordIndex:
        """BM25 over every passage, weighed by the server's own articles: a visitor's upload, which other
        visitors never read, must not move their scores either (unless ``RAG_SHARED_UPLOADS``)."""
        uncounted = None if self.settings.shared_uploads else upload_dir(self.settings.data_dir)
        return KeywordIndex(Path(self.settings.data_dir) / "bm25" / self.settings.collection, uncounted)

    @cached_property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(self.store, self.keyword, self.embed_model, self.settings.candidates)

    # --- indexing ------------------------------------------------------------------------------------
    def ingest(self, paths: str | Path | Sequence[str | Path], progress: Progress | None = None) -> IngestReport:
        """Add or update articles from files and folders (one path, or several); unchanged ones cost nothing.
        One path given as a string is that path: iterated, its "/" made a caller walk the whole disk."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        with self._write_turn():
            return self._ingest_writing([Path(p) for p in paths], progress)

    def _ingest_writing(self, paths: list[Path], progress: Progress | None) -> IngestReport:
        """``ingest``, for a caller that holds the write lock."""
        splitter = make_splitter(self.settings.chunk_size, self.settings.chunk_overlap)
        report = ingest_paths(paths, self.store, self.embed_model, splitter, self.settings.max_file_bytes, progress,
                              self.settings.max_collection_bytes, upload_dir(self.settings.data_dir))
        with self._lock:
            # Only the stamp on disk is read: a no-op run neither loads nor rebuilds the BM25 index.
            if self.keyword.persisted_generation() != self.store.generation():
                self.keyword.rebuild(self.store.snapshot())
            report.notices = language_advice(self.keyword.archive_language(), self.embed_model)
        return report

    def ingest_uploads(self, uploads: Iterable[tuple[str, bytes]], progress: Progress | None = None,
                       keys: Collection[str] = (), sender: str | None = None) -> tuple[Intake, IngestReport | None]:
        """Visitors' files (the Library tab, ``POST /v1/documents``): checked and saved under
        ``<data_dir>/uploads`` (``rag.uploads``), then indexed, all under the write lock, so no removal
        runs between an upload's indexing and its key. The files saved anew get one removal key
        (``intake.removal_key``): ``remove_upload`` asks for it.

        The same bytes as an upload already indexed are that article: they are not indexed again (which put
        back an article its uploader had removed from a collection, for anyone, with no key) and are
        reported unchanged, to an uploader holding their key (``keys``: the uploader's); anyone else's same
        file is saved as their own copy under a new name. At most ``RAG_MAX_UPLOADS`` files are kept, and
        ``RAG_MAX_UPLOADS_PER_SENDER`` of one ``sender`` (``rag.uploads.sender_of``; None: no such limit). A
        saved file that indexing refused as a whole, or that an error left unindexed, is deleted again: it
        left a file on the server with no article to remove it by."""
        folder = upload_dir(self.settings.data_dir)
        with self._write_turn():
            docs = self.documents()
            held = sum(1 for entry in os.scandir(folder) if entry.is_file()) if folder.is_dir() else 0
            intake = save_uploads(uploads, folder, self.settings.max_file_bytes,
                                  reserved={doc.source_name for doc in docs if not doc.uploaded},
                                  own=None if self.settings.shared_uploads else self._opened_files(keys),
                                  room=max(self.settings.max_uploads - held, 0), sender_room=self._sender_room(sender))
            if not intake.accepted:
                return intake, None
            indexed = {file_name(doc.source) for doc in docs if doc.uploaded}
            fresh = [path for path in intake.accepted if path in intake.written or path.name not in indexed]
            try:
                report = self._ingest_writing(fresh, progress) if fresh else IngestReport()
            except BaseException:
                self._forget_unindexed(intake.written)
                raise
            report.unchanged += [doc.doc_id for doc in docs if doc.uploaded and file_name(doc.source) in
                                 {path.name for path in intake.accepted if path not in fresh}]
            refused = {Path(skipped.path).resolve() for skipped in report.skipped} & set(fresh)
            remaining = self.store.documents() if refused else []
            for path in refused:
                forget_upload(str(path), folder, remaining)
            if owned := [path for path in fresh if path not in refused]:
                intake.removal_key = removal_key()
                self.removal_keys.grant(owned, intake.removal_key)
                if sender is not None:
                    self.upload_senders.record(owned, sender)
        report.skipped = [replace(skipped, reason=without_folder(skipped.reason, folder)) for skipped in report.skipped]
        report.warnings = [replace(warning, reason=without_folder(warning.reason, folder))
                           for warning in report.warnings]
        return intake, report

    def _sender_room(self, sender: str | None) -> SenderRoom | None:
        """What ``sender`` may still add (None: no limit for this caller)."""
        files, megabytes = self.settings.max_uploads_per_sender, self.settings.max_upload_mb_per_sender
        if sender is None or not (files or megabytes):
            return None
        return self.upload_senders.room(sender, upload_dir(self.settings.data_dir), files or None,
                                        int(megabytes * 2**20) if megabytes else None)

    def _forget_unindexed(self, saved: list[Path]) -> None:
        """Delete the saved uploads no indexed article comes from, after indexing failed. When the store is
        what failed they stay: the next upload of the same bytes indexes them and is given their key."""
        try:
            remaining = self.store.documents()
        except Exception:  # noqa: BLE001  the error being raised is the one to report
            return
        for path in saved:
            forget_upload(str(path), upload_dir(self.settings.data_dir), remaining)

    def remove(self, doc_id: str) -> bool:
        """Delete an article; False when it was not indexed. An uploaded article's file goes too (the UI,
        the API and ``rag remove`` alike), so its name is free for a new upload and no copy stays behind."""
        with self._write_turn():
            return self._remove_writing(doc_id)

    def remove_upload(self, doc_id: str, keys: Collection[str]) -> bool:
        """``remove`` as a visitor may (the Library tab, ``DELETE /v1/documents``): an upload they made, shown
        by one of ``keys``, the removal keys their uploads were given. Any visitor could remove any article,
        the server's own, then other visitors' uploads, and so change what every other visitor is answered.
        Raises ``NotAnUpload`` for an article the operator indexed, ``NotYourUpload`` for another's upload.

        Looked up, checked and removed under the write lock: checked on a listing taken before it, an
        upload still being indexed was not listed, went unchecked, and was removed once indexed."""
        with self._write_turn():
            doc = next((d for d in self.documents() if d.doc_id == doc_id), None)
            if doc is None:
                return False
            if not doc.uploaded:
                raise NotAnUpload(f"{doc.title or doc.source_name} was indexed by the server, not uploaded: "
                                  "visitors may remove only uploaded articles (on the server: rag remove "
                                  + doc_id + ").")
            if not self.removal_keys.allows(doc.source, keys):  # no title: another's upload is not theirs to see
                raise NotYourUpload(f"No upload {doc_id} of yours is indexed: an upload is removed with the removal "
                                    "key its upload returned (on the server: rag remove " + doc_id + ").")
            return self._remove_writing(doc_id)

    @contextlib.contextmanager
    def _write_turn(self) -> Iterator[None]:
        """One ingestion or removal at a time: of this process's threads, and of every process on this data
        folder (a UI and an HTTP API, or ``rag ingest`` beside a server). Serialised per process only, two
        processes wrote one index at once, and each granted a network its whole upload quota between the
        other's check and record. The folder's lock is taken first, so a process waiting for another's turn
        does not look busy to its own searches (``_follow_other_writers``)."""
        with exclusive(Path(self.settings.data_dir) / WRITE_TURN), self._writing:
            yield

    def _remove_writing(self, doc_id: str) -> bool:
        """``remove``, for a caller that holds the write lock."""
        with self._lock:
            doc = next((d for d in self.store.documents() if d.doc_id == doc_id), None)
            removed = self.store.remove(doc_id)
            if removed:
                self.keyword.rebuild(self.store.snapshot())
                if doc is not None and forget_upload(doc.source, upload_dir(self.settings.data_dir),
                                                     self.store.documents()):
                    self.removal_keys.forget(doc.source)
        return removed

    def removable_uploads(self, keys: Collection[str],
                          docs: Sequence[DocumentInfo] | None = None) -> list[DocumentInfo]:
        """The uploads that ``keys`` may remove (``docs``: ``documents()``, when the caller has just listed it)."""
        files = self._opened_files(keys)
        return [doc for doc in (self.documents() if docs is None else docs)
                if files and doc.uploaded and file_name(doc.source) in files]

    def _opened_files(self, keys: Collection[str]) -> set[str]:
        """The uploaded files ``keys`` open: a visitor's to read and to remove."""
        return self.removal_keys.files_of(keys) if keys else set()

    @cached_property
    def removal_keys(self) -> RemovalKeys:
        return RemovalKeys(self.settings.data_dir)

    @cached_property
    def upload_senders(self) -> UploadSenders:
        return UploadSenders(self.settings.data_dir)

    def documents(self) -> list[DocumentInfo]:
        """The indexed articles, each marked ``uploaded`` or not."""
        return marked_uploads(self.store.documents(), upload_dir(self.settings.data_dir))

    def article_text(self, doc_id: str) -> str | None:
        """An article's stored text, which citations' ``start``/``end`` index (None: no such article)."""
        return self.store.article_texts([doc_id]).get(doc_id)

    # --- what one visitor may read -------------------------------------------------------------------
    def visitor_filters(self, keys: Collection[str] = (),
                        filters: SearchFilters | None = None) -> SearchFilters | None:
        """``filters`` for a visitor of the UI or the HTTP API holding upload ``keys``: the uploaded files no
        key of theirs opens are left out, unless ``RAG_SHARED_UPLOADS``. A visitor's upload answered everyone,
        so any stranger could upload an article with a false figure under a real article's title and
        publisher and be quoted, cited, to every other visitor. The operator's own callers (``rag ask``,
        Python) read all. The unopened files of the uploads folder are left out of the search itself
        (``exclude_sources``), and each passage found is checked by its file's folder (``uploads``, in
        ``search``): decided by the articles listed, an upload was searchable by strangers while it was
        indexed, and decided when a question arrived, by one that then waited for the model."""
        if self.settings.shared_uploads:
            return filters
        opened = self._opened_files(keys)
        hidden = self._hidden_upload_files(opened)
        base = filters or SearchFilters()
        return replace(base, hidden_uploads=(*base.hidden_uploads, *hidden), uploads=tuple(opened),
                       exclude_sources=(*base.exclude_sources, *(set(hidden) - self._server_file_names())))

    def visitor_documents(self, keys: Collection[str] = (),
                          docs: Sequence[DocumentInfo] | None = None) -> list[DocumentInfo]:
        """The library as that visitor sees it: the operator's articles and the uploads ``keys`` open."""
        listed = self.documents() if docs is None else list(docs)
        if self.settings.shared_uploads:
            return listed
        opened = self._opened_files(keys)
        return [doc for doc in listed if not doc.uploaded or file_name(doc.source) in opened]

    def _hidden_upload_files(self, opened: Collection[str]) -> list[str]:
        """The uploaded files left out of the search itself, so that they take no place in its top k: the
        unopened ones. Left out by the name their passages carry as an upload's (``hidden_uploads``); by
        ``source_name`` (``exclude_sources``) only where no article the server indexed has that name too,
        for uploads indexed before their passages carried one (a visitor's upload named like an article
        still to come hid it from everyone). Every passage found is checked by its file's folder as well."""
        try:
            names = {entry.name for entry in os.scandir(upload_dir(self.settings.data_dir)) if entry.is_file()}
        except FileNotFoundError:
            return []
        return sorted(names - set(opened))

    def _server_file_names(self) -> set[str]:
        """The file names of the articles the server indexed itself, read once per index generation."""
        generation = self.store.generation()
        with self._lock:
            if self._server_names[0] != generation:
                self._server_names = (generation, {doc.source_name for doc in self.documents() if not doc.uploaded})
            return self._server_names[1]

    # --- retrieval -----------------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None,
               mode: SearchMode = "hybrid") -> list[Hit]:
        """The ``k`` best passages for ``query``: dense and keyword search fused (or one of them)."""
        _check_text("query", query)
        _check_k(k)
        self._follow_other_writers()
        hits = marked_uploads(self.retriever.retrieve(query, k or self.settings.top_k, filters, mode),
                              upload_dir(self.settings.data_dir))
        if filters is not None and filters.uploads is not None:  # whatever was written since the filter was made
            hits = [hit for hit in hits if not hit.uploaded or file_name(hit.source) in filters.uploads]
        return hits

    def _follow_other_writers(self) -> None:
        """Keep the BM25 index at the store's generation: unchanged, it costs one ~1 ms read; after a
        write by any process, load the copy that process persisted, or rebuild it once here. An embedded
        store another process wrote is opened again first: its vectors in memory are this process's."""
        with self._lock:
            if self._writing.locked() and self.keyword.generation is not None:
                return  # this process is ingesting: the keyword index it has serves until one rebuild at the end
            generation = self.store.generation()
            if not self.settings.chroma_url and self.store.written_elsewhere(generation):
                self._reopen_store()
            if self.keyword.generation != generation and not self.keyword.load(generation):
                self.keyword.rebuild(self.store.snapshot())

    def _reopen_store(self) -> None:
        """The embedded store read from disk anew (``store.forget_embedded_index``), and the retriever
        over it; a search still running on the old ones finishes there."""
        self.__dict__["store"] = self._open_store(fresh=True)
        self.__dict__.pop("retriever", None)

    # --- answering -----------------------------------------------------------------------------------
    @cached_property
    def chat_client(self) -> ChatClient | None:
        """The language model of ``RAG_LLM`` (None for ``extractive``); the local one loads here."""
        return None if self.settings.llm == "extractive" else build_chat_client(self.settings)

    def query_engine(self, filters: SearchFilters | None = None, k: int | None = None) -> CitedQueryEngine:
        """A llama-index query engine over this index that answers with checked citations."""
        return CitedQueryEngine(
            retrieve_hits=lambda question: self.search(question, k=k, filters=filters),
            scorer=embedding_scorer(partial(embed_question_and_passages, self.embed_model)),
            article_texts=self.store.article_texts, archive_names=self.keyword.writes_as_name,
            chat=self.chat_client, max_tokens=self.settings.max_answer_tokens,
            temperature=self.settings.temperature, context_chars=self.settings.context_chars,
            context_sentences=self.settings.context_sentences,
            relevance_margin=self.settings.relevance_margin,
            context_tokens=self.settings.local_context if self.settings.llm == "local" else None,
            min_confidence=self.settings.min_confidence,
            min_verification=self.settings.min_verification if self.settings.verify_evidence else None,
            check_short_answer=self.settings.check_short_answer,
            min_short_confidence=self.settings.min_short_confidence,
            skip_second_look_above=self.settings.skip_second_look_above,
            min_answer_probability=self.settings.min_answer_probability,
            min_confirmation=self.settings.min_confirmation,
            extractive_min_confidence=self.settings.extractive_min_confidence,
        )

    def ask(self, question: str, filters: SearchFilters | None = None, k: int | None = None) -> Answer:
        """Answer with cited sources, or refuse when the articles do not hold the answer."""
        return self._final(self.stream(question, filters, k))

    def stream(self, question: str, filters: SearchFilters | None = None,
               k: int | None = None) -> Iterator[str | Answer]:
        """Yield text deltas as the model writes, then the final checked ``Answer`` (``k``: passages
        read, default ``RAG_TOP_K``)."""
        _check_text("question", question)
        _check_k(k)
        _check_length("question", len(question), self.settings.max_question_chars, "RAG_MAX_QUESTION_CHARS")
        yield from self._stream_unchecked(question, filters, k)

    def _stream_unchecked(self, question: str, filters: SearchFilters | None,
                          k: int | None = None) -> Iterator[str | Answer]:
        if not self._kept_for_everyone(question):
            yield from self._computed(question, filters, k)
            return
        started = time.perf_counter()
        key = answer_key(self.store.generation(), self.settings, self.answering_model, filters, k, question)
        with self._answers.turn(key, patience=self.settings.request_timeout) as kept:
            if kept is not None:
                yield served_from_cache(kept, time.perf_counter() - started)
                return
            for item in self._computed(question, filters, k):
                if isinstance(item, Answer):
                    self._answers.put(key, item)
                yield item

    def _computed(self, question: str, filters: SearchFilters | None, k: int | None) -> Iterator[str | Answer]:
        self._follow_the_load()
        for item in self._engine_or_error(filters, k).stream(self._cased_as_the_archive(question)):
            if isinstance(item, Answer):
                item.question = question
            yield item

    def _cased_as_the_archive(self, question: str) -> str:
        """A question written in capitals, read with each word in the case the archive writes it
        (``rag.text.without_shouting``); any other question as it is."""
        if not shouted(question):
            return question
        self._follow_other_writers()  # the keyword index the archive's case is read from, loaded and current
        # one keyword search a word, not one a time it is written (a visitor's question may repeat one 150 times)
        return without_shouting(question, cache(self.keyword.writes_in_lower_case))

    def _kept_for_everyone(self, question: str) -> bool:
        """Only the example questions are answered from the cache: every visitor is shown them, and they are
        the common repeat. Any other question may be private to whoever asked it, and an answer kept for it,
        served in milliseconds and marked cached, would tell a stranger that someone asked exactly that.
        Sampled answers (temperature above 0) are not repeats."""
        settings = self.settings
        if settings.answer_cache <= 0 or settings.temperature > 0:
            return False
        return question in self._examples_asked or question in self.suggestions.read().values()

    def chat(self, history: Sequence[Message], message: str, filters: SearchFilters | None = None) -> Answer:
        """Answer a follow-up in the context of ``history`` ([{"role", "content"}, ...])."""
        return self._final(self.stream_chat(history, message, filters))

    def stream_chat(self, history: Sequence[Message], message: str, filters: SearchFilters | None = None,
                    k: int | None = None) -> Iterator[str | Answer]:
        """``chat`` with streaming: the follow-up is rewritten to stand alone, then answered."""
        _check_text("message", message)
        _check_history(history)
        _check_k(k)
        _check_length("question", len(message), self.settings.max_question_chars, "RAG_MAX_QUESTION_CHARS")
        _check_length("chat history", sum(len(str(turn.get("content", ""))) for turn in history),
                      self.settings.max_history_chars, "RAG_MAX_HISTORY_CHARS")
        chat = self._chat_client_or_none()
        question = standalone_question(history, message, chat)
        yield from self._stream_unchecked(question, filters, k)  # a rewrite may add the previous question

    # --- example questions ---------------------------------------------------------------------------
    @cached_property
    def suggestions(self) -> SuggestionStore:
        return SuggestionStore(Path(self.settings.data_dir) / "suggestions" / f"{self.settings.collection}.json")

    def suggested_questions(self, limit: int = 4, docs: Sequence[DocumentInfo] | None = None) -> list[str]:
        """Questions about the newest articles that this engine answered when they were written
        (``write_suggestions``); reading them costs no model call. ``docs``: the library, when the caller
        has just listed it (a page load lists it for its table too)."""
        listed = self.visitor_documents((), docs)  # every visitor is shown them: no visitor's upload
        return stored_questions(listed, self.suggestions.read(), self.answering_model, limit)

    def write_suggestions(self, limit: int = 4, tries: int | None = None) -> SuggestionRun:
        """Have the model write a question from each of the newest articles that has none yet, and keep
        those the engine answers citing that article (``rag.suggestions``): model calls, seconds each;
        ``tries``: at most this many articles tried (default ``limit``). The extractive backend writes none."""
        chat = self._chat_client_or_none()
        if chat is None:
            return SuggestionRun()
        return write_suggestions(
            self.visitor_documents(()), self.suggestions.read(), self.answering_model, limit,
            article_text=lambda doc_id: self.store.article_texts([doc_id]).get(doc_id, ""),
            write=lambda article: write_question(chat, article), answer=self._ask_as_example,
            put=self.suggestions.put, tries=tries)

    def _ask_as_example(self, question: str) -> Answer:
        """The engine's own question, so no visitor's: its answer is kept, and the first visitor to click it
        as an example gets it at once."""
        self._examples_asked.add(question)
        return self.ask(question, self.visitor_filters(()))  # as a visitor without uploads asks it: one cached answer

    @property
    def answering_model(self) -> str:
        """Who writes and answers, from the settings alone (no model is loaded to tell): the key under
        which example questions are stored, so another model, or another file under the same name, tries
        every article afresh."""
        s = self.settings
        if s.llm == "local":
            if s.local_model is None:
                return f"local:{MODEL_FILENAME}"
            path = Path(s.local_model).expanduser().resolve()
            changed = path.stat().st_mtime_ns if path.is_file() else 0
            return f"local:{path}:{changed}"
        if s.llm == "openai":
            return f"openai:{s.openai_base_url or 'api.openai.com'}:{s.openai_model}"
        return s.llm

    def configure(self, **changes: object) -> None:
        """Change settings at run time; the model is reloaded only if needed.

        A stored API key is never sent to another server: a new ``openai_base_url`` needs its key (or
        ``openai_api_key=None``) in the same call. A local model that is replaced stops serving, so its
        memory and threads are freed."""
        old = self.settings
        changed = {name for name, value in changes.items() if getattr(old, name, None) != value}
        if "openai_base_url" in changed and old.openai_api_key is not None and "openai_api_key" not in changes:
            raise ConfigError(
                f"Changing openai_base_url to {changes['openai_base_url'] or 'api.openai.com'} would send the "
                "stored API key there: give that server's key in the same call (openai_api_key=..., or None "
                "for a server that needs no key).")
        self.settings = old.model_copy(update=changes)
        if {"answer_cache", "data_dir", "collection"} & changed:
            self._answers = self._new_answer_cache()  # the old answers go with the old size or index
        if {"llm", "local_model", "local_threads", "local_context", "openai_model", "openai_base_url",
                "openai_api_key"} & changed:
            client = self.__dict__.pop("chat_client", None)
            if client is not None and client.backend == "local" and client.base_url and \
                    {"llm", "local_model", "local_threads", "local_context"} & changed:
                from rag.model_registry import stop_shared

                stop_shared(client.base_url)

    def _new_answer_cache(self) -> AnswerCache:
        """The example answers of this index, in memory and in a file beside its example questions."""
        settings = self.settings
        file = AnswerFile(Path(settings.data_dir) / "suggestions" / f"{settings.collection}.answers.json",
                          settings.answer_cache)
        return AnswerCache(settings.answer_cache, file)

    def _follow_the_load(self) -> None:
        """Between answers, a loaded local model takes the threads other processes now leave free
        (``LocalModelServer.refit_threads``); a first answer loads it with the count of that moment."""
        client = self.__dict__.get("chat_client")
        if client is not None and client.server is not None:
            client.server.refit_threads()

    def _chat_client_or_none(self) -> ChatClient | None:
        try:
            return self.chat_client
        except RagError:
            return None  # reported by the answer step, with the sources

    def _engine_or_error(self, filters: SearchFilters | None,
                         k: int | None = None) -> CitedQueryEngine | _FailedBackend:
        try:
            return self.query_engine(filters, k)
        except RagError as exc:  # no model: still show what retrieval found
            return _FailedBackend(self, exc, filters)

    @staticmethod
    def _final(items: Iterator[str | Answer]) -> Answer:
        answer = None
        for item in items:
            if isinstance(item, Answer):
                answer = item
        assert answer is not None, "stream ended without an Answer"
        return answer


# The public methods check their arguments' types: ``ask(None)`` failed deep inside with "object of type
# 'NoneType' has no len()", ``ask(b"...")`` with "'bytes' object has no attribute 'query_str'", and
# ``search(q, 0)`` returned RAG_TOP_K passages.
def _check_text(what: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"the {what} must be a str, not {type(value).__name__}")
    check_unicode(what, value)



def _check_history(history: object) -> None:
    turns = history if isinstance(history, Sequence) and not isinstance(history, (str, bytes)) else None
    if turns is None or not all(isinstance(turn, Mapping) and isinstance(turn.get("role"), str)
                                and isinstance(turn.get("content"), str) for turn in turns):
        raise TypeError('the history must be a list of {"role": "user" or "assistant", "content": str} turns')
    for turn in turns:
        check_unicode("chat history", turn["content"])


def _check_k(k: object) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k is the number of passages to read, a whole number from 1, not {k!r}")


def _check_length(what: str, chars: int, limit: int, setting: str) -> None:
    """Refuse oversized input up front: it would crowd the passages out of the model's window."""
    if chars > limit:
        raise InputTooLong(f"The {what} is too long ({chars:,} characters; the limit is {limit:,}, set by "
                           f"{setting}). Shorten it" + (", or start a new chat." if "history" in what else "."))


class _FailedBackend:
    """Stands in for the query engine when the model cannot start: the answer carries the error and
    the retrieved passages, so a missing key or model still shows the user what was found."""

    def __init__(self, engine: NewsRAG, error: RagError, filters: SearchFilters | None) -> None:
        self.engine, self.error, self.filters = engine, error, filters

    def stream(self, question: str) -> Iterator[Answer]:
        hits = self.engine.search(question, filters=self.filters)
        yield Answer(text="", refused=False, hits=hits, backend=self.engine.settings.llm, error=str(self.error))
