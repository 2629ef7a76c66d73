"""The chat turn: run ``NewsRAG.stream_chat`` and turn its output into successive chat messages.

The engine yields nothing until the model writes its first word (retrieval, model loading and prompt
reading happen before that), so the engine runs in a worker thread and the reply shows a ticking
status meanwhile: a slow backend never looks like a frozen screen. With ``slots`` (the engine's answer
queue, shared with the HTTP API under ``rag serve``) the worker first waits for a free slot, and gives
it back as soon as the answer ends or the visitor leaves.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
import time
from contextlib import closing, contextmanager, nullcontext
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag import Answer, NewsRAG, RagError, SearchFilters
from rag.generation import ChatClient
from ui import render

if TYPE_CHECKING:
    from rag.service import AnswerSlots

log = logging.getLogger(__name__)
TICK_SECONDS = 0.5  # how often the status line is refreshed while nothing new arrives
SEARCH_PHASE_SECONDS = 1.0  # retrieval takes well under this; after it, the backend is generating

Turn = dict[str, str]  # {"role": "user" | "assistant", "content": plain text}


@dataclass(frozen=True)
class Reply:
    """One state of the reply being written; ``answer`` is set on the last one only, ``error`` on a
    last one that failed (the ``ask`` API raises it)."""

    markdown: str
    answer: Answer | None = None
    error: str | None = None


class _Done:
    """Marks the end of the worker's output."""


class _Admitted:
    """The worker has its answer slot: the engine starts now."""


class Stopped(Exception):
    """The user pressed Stop: the answer is abandoned mid-stream."""


class _StopAware(ChatClient):
    """The engine's model client, which gives up between two tokens once the user pressed Stop.

    The engine may read many tokens before it yields anything (the reply's first line), so checking Stop
    only between the engine's own items could leave the model writing a whole answer nobody reads.
    Giving up closes the HTTP stream, so the model server stops generating and its slot is free."""

    def __init__(self, client: ChatClient, stop: threading.Event) -> None:  # noqa: D107  (no super: a proxy)
        self._wrapped, self._stop = client, stop

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_wrapped"], name)

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[str]:  # type: ignore[override]
        deltas = self._wrapped.stream(*args, **kwargs)
        with closing(deltas):
            for delta in deltas:
                if self._stop.is_set():
                    raise Stopped
                yield delta


def _stoppable(engine: NewsRAG, stop: threading.Event) -> NewsRAG:
    """A shallow view of ``engine`` whose model client honours ``stop`` (same index, same model)."""
    try:
        client = engine.chat_client
        _ = engine.retriever  # the shared parts exist before the copy, so the view shares them
    except RagError:
        return engine  # the answer step reports it, with the passages found
    if client is None:
        return engine
    view = copy.copy(engine)
    view.__dict__["chat_client"] = _StopAware(client, stop)
    return view


class OneAtATime:
    """One answer at a time per visitor (a browser session). The page's queue took any number of events
    from one session: 60 questions queued by one visitor made everyone else's wait for all of them. A
    second question from a visitor whose first is still being answered is refused at once instead, so
    one visitor can hold at most one answer slot."""

    def __init__(self) -> None:
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def turn(self, visitor: str) -> Iterator[bool]:
        """True (and the visitor's turn, until the block ends) when the visitor has no answer under way."""
        with self._lock:
            admitted = visitor not in self._busy
            self._busy.add(visitor)
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self._busy.discard(visitor)


BUSY = ("Your previous question is still being answered: ask this one when it is done, or press Stop first. "
        "Each visitor gets one answer at a time, so that no one waits behind another's queue of questions.")


def stream_reply(engine: NewsRAG, history: Sequence[Turn], message: str,
                 slots: AnswerSlots | None = None, filters: SearchFilters | None = None) -> Iterator[Reply]:
    """Progress states (waiting for a slot, searching, generating), then the model's words as they come,
    then the checked answer (or the error). Closing the iterator (Stop, or the visitor left) stops the
    worker, which gives its slot back or leaves the queue."""
    items: queue.Queue[object] = queue.Queue()
    stop = threading.Event()
    threading.Thread(target=_produce, args=(engine, list(history), message, items, stop, slots, filters),
                     daemon=True).start()
    started, partial, admitted = time.monotonic(), "", slots is None
    shown = render.status_markdown(_status(engine, 0.0, ""))
    yield Reply(shown)
    try:
        while True:
            try:
                item = items.get(timeout=TICK_SECONDS)
            except queue.Empty:
                item = None
            if isinstance(item, _Admitted):
                started, admitted = time.monotonic(), True  # the clock counts the answer, not the wait
            if isinstance(item, Answer):
                yield Reply(render.answer_markdown(item), item)
                return
            if isinstance(item, (BaseException, _Done)):
                error = _message(item) if isinstance(item, BaseException) else "The engine stopped without an answer."
                yield Reply(render.error_markdown(error), error=error)
                return
            if isinstance(item, str):
                partial += item
            elapsed = time.monotonic() - started
            # Still without a slot after a tick: say so (a free slot is taken well within one tick).
            status = _status(engine, elapsed, partial, waiting=not admitted and elapsed >= TICK_SECONDS)
            markdown = render.status_markdown(status, partial)
            if markdown != shown:
                shown = markdown
                yield Reply(markdown)
    finally:
        stop.set()  # the user left or pressed stop: the worker stops pulling from the model


def _produce(engine: NewsRAG, history: list[Turn], message: str, items: queue.Queue[object],
             stop: threading.Event, slots: AnswerSlots | None = None, filters: SearchFilters | None = None) -> None:
    """Worker thread: wait for a slot, then forward the engine's stream into ``items``."""
    try:
        with slots.turn(stop) if slots is not None else nullcontext(True) as admitted:
            if not admitted:
                return  # the visitor left while waiting
            items.put(_Admitted())
            engine = _stoppable(engine, stop)
            with closing(engine.stream_chat(history, message, filters)) as stream:  # closing ends a model request early
                for item in stream:
                    if stop.is_set():
                        return
                    items.put(item)
    except Stopped:
        return
    except Exception as exc:  # noqa: BLE001  shown in the chat; the app keeps running
        if not isinstance(exc, RagError):
            log.exception("answering failed")
        items.put(exc)
    finally:
        items.put(_Done())


def _status(engine: NewsRAG, elapsed: float, partial: str, waiting: bool = False) -> str:
    backend = engine.settings.llm
    if waiting:
        return "Waiting for the model: it is answering other questions…"
    if partial:
        return f"Generating with {backend}… {elapsed:.0f} s"
    if elapsed < SEARCH_PHASE_SECONDS or backend == "extractive":
        return "Searching the articles…"
    return f"Generating with {backend}… {elapsed:.0f} s"


def _message(exc: BaseException) -> str:
    if isinstance(exc, RagError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}: {exc}). The app is still running; try again."


def recent_turns(turns: Sequence[Turn], max_chars: int) -> list[Turn]:
    """The latest turns whose text fits ``max_chars``: a long chat keeps working (follow-ups need only
    the recent context) and never sends the engine more than its history limit."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        used += len(turn["content"])
        if used > max_chars:
            break
        kept.append(turn)
    return kept[::-1]


def flatten_history(history: Sequence[dict[str, Any]] | None) -> list[Turn]:
    """Gradio 6 messages (content as a string or as ``[{"type": "text", "text": ...}]``) -> plain turns."""
    turns: list[Turn] = []
    for message in history or []:
        role, content = message.get("role"), message.get("content")
        if role not in ("user", "assistant"):
            continue
        if isinstance(content, list):
            content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
        elif isinstance(content, dict):
            content = content.get("text", "")
        if isinstance(content, str) and content.strip():
            turns.append({"role": role, "content": content.strip()})
    return turns
