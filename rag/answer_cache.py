"""Answers to the example questions, kept so that asking one again costs nothing.

Since every chat starts from its system prompt alone (``ChatClient.begin``), the same question over the
same index with the same settings gets the same answer, so a repeat can be served from memory instead of
8-12 s of a 2-core CPU. The engine keeps only the answers to its example questions (``NewsRAG`` decides):
every visitor is shown them, so they are the common repeat, and keeping them tells nobody what anyone
asked; another visitor's own question could be private.

An answer is kept under everything it depends on: the index's generation (renewed by every write, by
any process), a digest of all settings (backend, model, top-k, thresholds...), the model file's
identity, the search filters, the passage count and the exact question. So a cached answer is the one
the engine would compute now, for any visitor: it only arrives sooner. Kept answers are written to a
file beside the index too (``AnswerFile``), so a restarted UI or ``rag serve``, or another process on the
same index, serves them at once as well: without it the first click on each example after a restart
waited 8-12 s for an answer the index had not changed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.json_file import read_object, update_object
from rag.retrieval import SearchFilters
from rag.settings import Settings
from rag.types import Answer, Citation, Hit


@dataclass(frozen=True)
class AnswerKey:
    """Everything an answer depends on besides the model's weights, which ``model`` names."""

    generation: str
    settings: str
    model: str
    filters: tuple[tuple[str, ...], int | None, int | None, tuple[str, ...], tuple[str, ...],
                   tuple[str, ...] | None] | None
    k: int
    question: str


def answer_key(generation: str, settings: Settings, model: str, filters: SearchFilters | None,
               k: int | None, question: str) -> AnswerKey:
    """The key of one ask; filters and ``k`` as what they select (sources in any order, as a list or a
    tuple; no ``k`` is ``top_k``)."""
    selected = None if filters is None else (tuple(sorted(filters.sources)), filters.published_from,
                                             filters.published_to, filters.exclude_sources, filters.hidden_uploads,
                                             filters.uploads)  # what this visitor may read
    return AnswerKey(generation, settings_digest(settings), model, selected, k or settings.top_k, question)


def settings_digest(settings: Settings) -> str:
    """One string that changes whenever a setting does. Secrets are dumped masked: a key does not change
    what the model answers, and no key is kept in the cache's keys."""
    return hashlib.sha256(settings.model_dump_json().encode()).hexdigest()


def worth_keeping(answer: Answer) -> bool:
    """A failed answer (no model, a server down) is not the answer: the next ask should try again."""
    return not answer.error


def served_from_cache(answer: Answer, seconds: float) -> Answer:
    """A kept answer as one caller gets it: marked as cached, with the seconds the lookup took and no
    prompt tokens (none were sent for it)."""
    return _detached(answer, timings={"first_token": seconds, "total": seconds}, cached=True, prompt_tokens=0)


def _detached(answer: Answer, **changes: object) -> Answer:
    """A copy whose lists a caller may change without changing the kept answer (the items are frozen)."""
    copied = {"citations": list(answer.citations), "hits": list(answer.hits), "timings": dict(answer.timings)}
    return dataclasses.replace(answer, **{**copied, **changes})


@functools.cache  # read once: every example asked reads a stored key, and this reads package metadata
def _code_version() -> str:
    try:
        return importlib.metadata.version("news-rag")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def stored_key(key: AnswerKey) -> str:
    """A key as a file's entry: a digest of all its parts and of the code's version, since an upgrade may
    answer the same question differently."""
    return hashlib.sha256(repr((_code_version(), key)).encode()).hexdigest()


def answer_from_json(data: object) -> Answer | None:
    """An answer as ``dataclasses.asdict`` wrote it, or None when the entry does not read as one (written
    by another version, or edited by hand): then the question is computed again."""
    if not isinstance(data, dict):
        return None
    try:
        return Answer(**{**data, "citations": [Citation(**c) for c in data.get("citations", [])],
                         "hits": [Hit(**h) for h in data.get("hits", [])], "cached": False})
    except (TypeError, ValueError):
        return None


class AnswerFile:
    """Kept answers in one JSON file beside the index (``rag.json_file``): ``{stored_key: {generation,
    answer}}``. A write drops the entries of other generations (the index has changed since: they will
    never be served again) and keeps at most ``capacity``, the oldest written going first."""

    def __init__(self, path: Path, capacity: int) -> None:
        self.path = Path(path)
        self.capacity = capacity

    def get(self, key: AnswerKey) -> Answer | None:
        entry = read_object(self.path).get(stored_key(key))
        if not isinstance(entry, dict) or entry.get("generation") != key.generation:
            return None
        return answer_from_json(entry.get("answer"))

    def put(self, key: AnswerKey, answer: Answer) -> None:
        name = stored_key(key)
        entry = {"generation": key.generation, "answer": dataclasses.asdict(answer)}

        def with_entry(held: dict[str, object]) -> dict[str, object]:
            current = {other: kept for other, kept in held.items() if other != name
                       and isinstance(kept, dict) and kept.get("generation") == key.generation}
            return dict(list({**current, name: entry}.items())[-self.capacity:])

        update_object(self.path, with_entry)


class AnswerCache:
    """The ``capacity`` most recently used answers; thread-safe (the UI and the HTTP API answer from
    several threads). Hand-written: ``functools.lru_cache`` cannot key on the index's generation read at
    call time, decline to keep a failed answer, nor serve a streamed answer. With a ``file``, answers are
    written through to it and read from it when memory has none (a restart, another process)."""

    def __init__(self, capacity: int, file: AnswerFile | None = None) -> None:
        self.capacity = capacity
        self.file = file if capacity > 0 else None
        self._answers: OrderedDict[AnswerKey, Answer] = OrderedDict()
        self._computing: dict[AnswerKey, tuple[threading.Event, int]] = {}  # -> (done, computing thread)
        self._lock = threading.Lock()

    @contextmanager
    def turn(self, key: AnswerKey, patience: float) -> Iterator[Answer | None]:
        """The kept answer for ``key``, or None: then the caller computes it (and ``put``s it) inside the
        block. A caller whose question another is computing waits for that answer: visitors clicking the
        same example question at once cost one answer, not one each in turn. If the first gives up (left,
        stopped, failed), a waiting caller computes it instead; one that waited ``patience`` seconds, or
        whose own thread holds the question (an unfinished stream), computes it without waiting."""
        claimed, kept = self._claim(key, patience)
        try:
            yield kept
        finally:
            if claimed:
                with self._lock:
                    self._computing.pop(key)[0].set()

    def _claim(self, key: AnswerKey, patience: float) -> tuple[bool, Answer | None]:
        """(whether this caller now computes ``key`` for the others, the kept answer if there is one)."""
        deadline = time.monotonic() + patience
        while True:
            with self._lock:
                kept = self._kept(key)
                if kept is not None or self.capacity <= 0:
                    return False, kept
                running = self._computing.get(key)
                if running is None:
                    self._computing[key] = (threading.Event(), threading.get_ident())
                    return True, None
            done, owner = running
            if owner == threading.get_ident() or not done.wait(max(0.0, deadline - time.monotonic())):
                return False, None

    def _kept(self, key: AnswerKey) -> Answer | None:
        answer = self._answers.get(key)
        if answer is None and self.file is not None:
            answer = self.file.get(key)
            if answer is not None:
                self._remember(key, answer)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def _remember(self, key: AnswerKey, answer: Answer) -> None:
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.capacity:
            self._answers.popitem(last=False)

    def put(self, key: AnswerKey, answer: Answer) -> None:
        if self.capacity <= 0 or not worth_keeping(answer):
            return
        kept = _detached(answer)
        with self._lock:
            self._remember(key, kept)
        if self.file is not None:
            try:
                self.file.put(key, kept)
            except OSError:
                pass  # a read-only or full disk: the answer is still kept in memory
