"""The HTTP API of ``rag serve``: OpenAI-compatible chat completions with citations, ``/v1/ask``, documents.

``build_service(engine)`` returns a FastAPI app; ``rag serve`` mounts the Gradio UI on it at ``/``. The
engine is synchronous and the local model answers one question at a time, so answers run in worker
threads behind ``AnswerSlots``: requests wait their turn instead of failing, and a client that goes
away stops its answer. ``rag serve`` hands the same ``AnswerSlots`` to the UI's chat, so the API and
the page mounted beside it queue together and ``/healthz`` counts both. Every error is
JSON in OpenAI's shape (``{"error": {"message", "type", "code"}}``) with a message that names the fix;
stack traces stay in the server log.

This module imports nothing from ``ui`` or ``eval``: the engine never depends on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, File, Header, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Match

from rag.engine import NewsRAG
from rag.errors import ConfigError, InputTooLong, InvalidText, NotAnUpload, NotYourUpload, RagError, StoreUnavailableError
from rag.generation import Message
from rag.retrieval import SearchFilters
from rag.settings import Settings
from rag.text import check_unicode
from rag.types import Answer
from rag.uploads import MAX_FILES_PER_UPLOAD, request_sender

log = logging.getLogger(__name__)
MODEL_ID = "news-rag"
MODEL_CARD: dict[str, object] = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "news-rag"}
JSON_BODY_BYTES = 1024 * 1024  # a question with a long conversation fits many times over
MULTIPART_OVERHEAD = 64 * 1024
POLL_SECONDS = 0.25  # how often a waiting request checks that its client is still there
KEEPALIVE_SECONDS = 10.0  # an SSE comment while the answer is being made: proxies keep the stream open
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


# --- who may connect -------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """True when only this machine can connect to ``host`` (a host name may resolve to anything)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_access(host: str, token: SecretStr | None, no_auth: bool) -> str:
    """A sentence saying who can reach the server; refuses a non-loopback bind without a token.

    Same rule as the UI: loopback needs nothing, anything else needs ``RAG_API_TOKEN`` unless the user
    explicitly takes the risk with ``--no-auth``."""
    if token is not None and no_auth:
        raise ConfigError("RAG_API_TOKEN and --no-auth exclude each other: unset one")
    if token is not None:
        return "bearer token required (RAG_API_TOKEN)"
    if is_loopback(host):
        return "loopback only: reachable from this machine, no token"
    if no_auth:
        return (f"WARNING: listening on {host} WITHOUT authentication (--no-auth): anyone who can reach this "
                "machine can ask questions and change the library")
    raise ConfigError(f"refusing to listen on {host} without authentication: set RAG_API_TOKEN to a secret "
                      "(clients send it as `Authorization: Bearer <token>`), or pass --no-auth to accept the "
                      "risk; the default host 127.0.0.1 needs neither")


# --- request bodies ----------------------------------------------------------------------------------------
MAX_FILTER_SOURCES = 100  # 60,000 names were a 500 (Chroma: "too many SQL variables")


class Filters(BaseModel):
    """Restrict retrieval: source file names, and/or a publication window (ISO date or epoch seconds)."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(default_factory=list, max_length=MAX_FILTER_SOURCES,
                               description="File names, as shown in citations.")
    published_from: datetime | None = Field(None, description="Inclusive, e.g. 2025-01-31 or 1738281600.")
    published_to: datetime | None = Field(None, description="Exclusive.")

    _search: SearchFilters = PrivateAttr(default_factory=SearchFilters)

    @model_validator(mode="after")
    def _window_in_order(self) -> Filters:
        """Read as SearchFilters reads dates (a naive time is UTC; 1800-2100), so a bad window is a 422:
        a naive date beside one with a zone was a TypeError, and a year out of range a DateError, both a 500."""
        self._search = SearchFilters(sources=tuple(self.sources), published_from=self.published_from,  # type: ignore[arg-type]
                                     published_to=self.published_to)  # type: ignore[arg-type]
        start, end = self._search.published_from, self._search.published_to
        if start is not None and end is not None and start >= end:
            raise ValueError("published_from must be before published_to")
        return self

    def to_search_filters(self) -> SearchFilters | None:
        if not (self.sources or self.published_from or self.published_to):
            return None
        return self._search


class AskRequest(BaseModel):
    """``POST /v1/ask``: one question, answered as ``rag ask --json`` would."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    filters: Filters | None = None
    k: int | None = Field(None, ge=1, le=50, description="Passages to read (default: RAG_TOP_K).")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls...: accepted, not used

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message as plain text (OpenAI clients may send a list of typed parts)."""
        if isinstance(self.content, list):
            return "\n".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = Field(False, strict=True)


class ChatRequest(BaseModel):
    """``POST /v1/chat/completions``, OpenAI's format. Sampling and length fields (temperature, top_p,
    max_tokens, stop, seed...) are accepted and ignored: the engine's settings decide how the answer is
    made, and an answer is checked and cited whole. Fields that promise another kind of reply (JSON,
    a tool call, log probabilities) are refused with a 422 naming them: they were accepted and prose came
    back, which a client parsing JSON or waiting for its tool call read as its own failure. ``filters``
    is this server's own extra field."""

    model_config = ConfigDict(extra="allow")

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    # Strict: "stream": "yes" or "false" was read as a boolean ("false" as False, "yes" as True), so a
    # client's typo chose between two response formats; JSON true/false only.
    stream: bool = Field(False, strict=True)
    stream_options: StreamOptions | None = None
    filters: Filters | None = None
    # One choice per question: n=2 was accepted and one choice came back, which a client indexing
    # choices[1] read as a crash of its own.
    n: int = Field(1, ge=1, le=1, description="Choices to return: one (the checked answer).")
    temperature: float | None = Field(None, ge=0, le=2, description="Accepted (0 to 2, as OpenAI) and ignored.")
    max_tokens: int | None = Field(None, ge=1, description="Accepted and ignored: RAG_MAX_ANSWER_TOKENS applies.")
    max_completion_tokens: int | None = Field(None, ge=1, description="As max_tokens.")
    response_format: dict[str, Any] | None = Field(None, description="Only {'type': 'text'}: answers are prose.")
    tool_choice: str | dict[str, Any] | None = Field(None, description="Only 'none' or 'auto': no tool is called.")
    logprobs: bool | None = Field(None, description="Only false: no log probabilities are returned.")

    @model_validator(mode="after")
    def _only_prose_answers(self) -> ChatRequest:
        fmt = (self.response_format or {}).get("type", "text")
        if fmt != "text":
            raise ValueError(f"response_format {fmt!r} is not supported: answers are prose with [n] citations")
        if self.tool_choice not in (None, "none", "auto"):
            raise ValueError("tool_choice must be 'none' or 'auto': this server answers from its articles and "
                             "calls no tool")
        if self.logprobs:
            raise ValueError("logprobs are not returned here: the answer's confidence is in answer_probability")
        return self

    def question_and_history(self) -> tuple[str, list[Message]]:
        """The last user message is the question; earlier user/assistant turns are the conversation."""
        last = self.messages[-1]
        if last.role != "user" or not last.text().strip():
            raise HTTPException(422, "The last message must be the user's question (role 'user', non-empty text).")
        history = [{"role": m.role, "content": m.text()} for m in self.messages[:-1]
                   if m.role in ("user", "assistant") and m.text().strip()]
        return last.text().strip(), history


# --- answering in turn ---------------------------------------------------------------------------------------
class _Done:
    """Marks the end of a worker's output."""


class _Waiting:
    """Yielded while the answer is still being made, so a stream can send a keep-alive."""


WAITING = _Waiting()
Produce = Callable[[], Iterator["str | Answer"]]


class AnswerSlots:
    """Runs engine streams in worker threads, ``slots`` at a time; later requests queue for a slot.

    The engine is synchronous and the local model answers one question at a time: an async server must
    neither block its event loop on it nor turn a busy model into errors. A request whose client left
    gives up its place in the queue, or stops its answer at the next item the engine yields."""

    def __init__(self, slots: int, max_waiting: int = 64) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self.waiting = 0
        self.running = 0

    def check_room(self) -> None:
        """A 429 when ``max_waiting`` questions already wait for a slot: each holds a thread, and one client
        could queue hundreds ahead of everyone. Checked before a request's worker starts; a worker counts
        itself as waiting as soon as it starts, so a burst passes at most a few over."""
        if self.waiting >= self.max_waiting:
            raise HTTPException(429, f"The queue is full: {self.max_waiting} questions may wait for an answer (the "
                                     "server's RAG_API_MAX_WAITING); ask again in a moment.", headers={"Retry-After": "5"})

    async def items(self, produce: Produce, request: Request) -> AsyncIterator[str | Answer | _Waiting]:
        """The engine's items as they come; ``WAITING`` every ``KEEPALIVE_SECONDS`` of silence."""
        loop = asyncio.get_running_loop()
        out: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def put(item: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: the server is shutting down
                loop.call_soon_threadsafe(out.put_nowait, item)

        threading.Thread(target=self._work, args=(produce, put, stop), daemon=True, name="answer").start()
        silent_since = time.monotonic()
        try:
            while True:
                try:
                    item = await asyncio.wait_for(out.get(), POLL_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    if time.monotonic() - silent_since >= KEEPALIVE_SECONDS:
                        silent_since = time.monotonic()
                        yield WAITING
                    continue
                silent_since = time.monotonic()
                if isinstance(item, _Done):
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            stop.set()  # the client left, or the answer is complete: the worker stops either way

    @contextlib.contextmanager
    def turn(self, stop: threading.Event | None = None) -> Iterator[bool]:
        """Wait for a free slot (counted in ``waiting``) and hold it for the block (counted in ``running``).

        Yields False, without a slot, when ``stop`` is set first: whoever waited has left. Used by the
        API's workers and by the UI's chat, so both queue for the same model."""
        stop = stop or threading.Event()
        with self._lock:
            self.waiting += 1
        acquired = False
        try:
            while not stop.is_set() and not acquired:
                acquired = self._free.acquire(timeout=POLL_SECONDS)
        finally:
            with self._lock:
                self.waiting -= 1
                self.running += acquired
        try:
            yield acquired
        finally:
            if acquired:
                with self._lock:
                    self.running -= 1
                self._free.release()

    def _work(self, produce: Produce, put: Callable[[object], None], stop: threading.Event) -> None:
        try:
            with self.turn(stop) as acquired:
                if not acquired:
                    return
                with contextlib.closing(produce()) as items:  # closing stops the model's stream
                    for item in items:
                        if stop.is_set():
                            return
                        put(item)
        except BaseException as exc:  # handed to the request, which turns it into an HTTP error
            put(exc)
        finally:
            put(_Done())


def answer_slots(settings: Settings) -> int:
    """One for the local model (one answer at a time: its llama.cpp slots hold that answer's chats: the
    choice, the second look and the likelihood, ``rag.model_registry.SLOTS``); ``RAG_API_PARALLEL`` for
    the other backends."""
    return 1 if settings.llm == "local" else settings.api_parallel


async def final_answer(items: AsyncIterator[str | Answer | _Waiting]) -> Answer:
    """The checked ``Answer`` at the end of a stream (raw deltas are not kept: the check may renumber)."""
    answer: Answer | None = None
    async for item in items:
        if isinstance(item, Answer):
            answer = item
    if answer is None:
        raise HTTPException(499, "The client closed the request before the answer was ready.")
    return answer


# --- the OpenAI shapes ----------------------------------------------------------------------------------------
def usage_of(answer: Answer) -> dict[str, int]:
    completion = max(1, len(answer.text) // 4)  # the engine counts prompt tokens only; ~4 chars a token
    return {"prompt_tokens": answer.prompt_tokens, "completion_tokens": completion,
            "total_tokens": answer.prompt_tokens + completion}


def rag_fields(answer: Answer) -> dict[str, object]:
    """The top-level fields this server adds to OpenAI's response: the evidence behind the answer, as
    ``Answer.to_dict`` (``/v1/ask``, ``rag ask --json``) writes them."""
    shape = answer.to_dict()
    return {field: shape[field] for field in _RAG_FIELDS}


_RAG_FIELDS = ("citations", "confidence", "verification", "short", "short_confidence", "answer_probability",
               "evidence_likelihood", "refused", "question", "cached")


def completion_body(answer: Answer, completion_id: str, created: int) -> dict[str, object]:
    return {"id": completion_id, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": usage_of(answer), **rag_fields(answer)}


def chunk_body(completion_id: str, created: int, delta: dict[str, object], finish: str | None = None,
               **extra: object) -> dict[str, object]:
    return {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}


def error_body(status: int, message: str) -> dict[str, object]:
    """OpenAI's error shape, which its clients read the message from; one type per status, wherever the
    error arose (a 403 was "forbidden" from one guard and "server_error" from another)."""
    return {"error": {"message": message, "type": _error_type(status), "param": None, "code": status}}


def _error_type(status: int) -> str:
    return {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
            413: "request_too_large", 422: "invalid_request_error", 429: "rate_limit_error", 499: "client_closed_request",
            503: "service_unavailable"}.get(status, "server_error")


def status_of(error: RagError) -> int:
    """413 for oversized input (shorten it), 422 for text that is not Unicode, 503 for anything the
    operator must fix or retry."""
    return 413 if isinstance(error, InputTooLong) else 422 if isinstance(error, InvalidText) else 503


def sse(payload: dict[str, object] | str) -> bytes:
    return format_sse_event(data_str=payload if isinstance(payload, str) else json.dumps(payload))


# --- the app ----------------------------------------------------------------------------------------------------
def build_service(engine: NewsRAG, slots: AnswerSlots | None = None, any_host: bool = False) -> FastAPI:
    """The HTTP API over one engine. Every ``/v1`` route needs the bearer token when one is set.

    ``slots``: the answer queue (``api.state.slots``), new unless given; pass it to the UI mounted beside.
    ``any_host``: serve requests for any host name although no token is set (``--no-auth`` off loopback);
    otherwise a server without a token answers only to loopback names (``CrossSiteGuard``)."""
    api = FastAPI(title="news-rag", version="1", docs_url=None, openapi_url="/v1/openapi.json", redoc_url=None)
    _serve_docs(api)
    slots = slots or AnswerSlots(answer_slots(engine.settings), engine.settings.api_max_waiting)
    api.state.engine, api.state.slots = engine, slots
    _install_error_handlers(api)
    upload_limit = engine.settings.max_file_bytes + MULTIPART_OVERHEAD
    # Each middleware added goes in front of the ones before it: added last to first, the first guard listed is
    # the outermost, as FastAPI(middleware=...) orders them for `rag ui`, so ``BodyLimit`` reads every body first.
    for middleware in reversed(guards(engine.settings.max_file_bytes,
                                      loopback_names_only=engine.settings.api_token is None and not any_host)):
        api.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    authorized = [Depends(_bearer_check(engine.settings.api_token))]

    @api.get("/healthz")
    def healthz() -> dict[str, object]:
        """Liveness for load balancers and scripts: is the index reachable, how busy is the model.

        No passage count: it rose with each visitor's private upload, so a stranger polling it saw when
        someone uploaded and how much (``rag status`` and ``GET /v1/documents`` give the library)."""
        engine.store.count_chunks()  # reaches the index: a count is cheap at any size, and raises if it is down
        return {"status": "ok", "backend": engine.settings.llm,
                "answering": slots.running, "queued": slots.waiting}  # API and UI

    @api.get("/v1/models", dependencies=authorized)
    def models() -> dict[str, object]:
        return {"object": "list", "data": [MODEL_CARD]}

    @api.get("/v1/models/{model_id}", dependencies=authorized)
    def model(model_id: str) -> dict[str, object]:
        """OpenAI's model lookup: some clients check the model this way before they chat."""
        if model_id != MODEL_ID:
            raise HTTPException(404, f"The model {model_id!r} is not served here: use {MODEL_ID!r}.")
        return MODEL_CARD

    @api.post("/v1/chat/completions", dependencies=authorized, max_body_size=JSON_BODY_BYTES)
    async def chat_completions(body: ChatRequest, request: Request) -> Any:
        """OpenAI's chat completions; the answer keeps its [n] markers, ``citations`` says what they are."""
        if body.model != MODEL_ID:
            raise HTTPException(404, f"The model {body.model!r} is not served here: use {MODEL_ID!r} "
                                     "(GET /v1/models lists it).")
        question, history = body.question_and_history()
        _check_question(question, engine.settings, history)
        filters, keys = body.filters.to_search_filters() if body.filters else None, upload_keys(request)
        slots.check_room()
        items = slots.items(lambda: engine.stream_chat(history, question, engine.visitor_filters(keys, filters)),
                            request)
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return EventSourceResponse(_sse_stream(items, completion_id, created, include_usage),
                                       headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        answer = _succeeded(await final_answer(items))
        return completion_body(answer, completion_id, created)

    @api.post("/v1/ask", dependencies=authorized, max_body_size=JSON_BODY_BYTES)
    async def ask(body: AskRequest, request: Request) -> Any:
        """One question -> the JSON of ``rag ask --json`` (``Answer.to_dict``)."""
        _check_question(body.question, engine.settings)
        filters, keys = body.filters.to_search_filters() if body.filters else None, upload_keys(request)
        slots.check_room()
        answer = await final_answer(slots.items(
            lambda: engine.stream(body.question, engine.visitor_filters(keys, filters), body.k), request))
        if answer.error:  # the retrieved passages still go back, beside the error
            return JSONResponse({**error_body(503, answer.error), "answer": answer.to_dict()}, 503)
        return answer.to_dict()

    @api.get("/v1/documents", dependencies=authorized)
    def list_documents(request: Request) -> dict[str, object]:
        """The operator's articles and the caller's own uploads (all uploads with RAG_SHARED_UPLOADS)."""
        return {"object": "list", "data": [_document_dict(d) for d in engine.visitor_documents(upload_keys(request))]}

    @api.get("/v1/documents/{doc_id}", dependencies=authorized)
    def get_document(doc_id: str, request: Request) -> dict[str, object]:
        """One article with its stored ``text``: a citation's ``start``/``end`` index it, and no other route
        gave it, so clients could not highlight a quote in its article."""
        doc = next((d for d in engine.visitor_documents(upload_keys(request)) if d.doc_id == doc_id), None)
        text = engine.article_text(doc_id) if doc else None
        if doc is None or text is None:
            raise HTTPException(404, f"No document {doc_id!r} is indexed; GET /v1/documents lists the doc_ids.")
        return {**_document_dict(doc), "text": text}

    # Uploads index one at a time (the engine's write lock), each in a worker thread: 45 waiting uploads
    # held the thread pool's 40 threads, and /healthz and GET /v1/documents timed out behind them.
    indexing = threading.BoundedSemaphore(UPLOADS_IN_FLIGHT)

    @api.post("/v1/documents", dependencies=authorized, max_body_size=upload_limit)
    def upload_documents(request: Request, files: list[UploadFile] = File(
            description="Article files: .txt .md .html .jsonl .json")) -> JSONResponse:
        """Check, save under ``<data_dir>/uploads`` and index the files, as the Library tab does."""
        if not indexing.acquire(blocking=False):
            raise HTTPException(429, "Other uploads are being indexed; send these again when they are done.",
                                headers={"Retry-After": "10"})
        try:
            return _ingest_uploads(engine, files, upload_keys(request), request_sender(request))
        finally:
            indexing.release()

    @api.delete("/v1/documents/{doc_id}", dependencies=authorized)
    def delete_document(doc_id: str, removal_key: str = Header("", alias=REMOVAL_KEY_HEADER, description=(
            "the removal_key its upload returned: a visitor removes only their own uploads"))) -> dict[str, object]:
        try:
            removed = engine.remove_upload(doc_id, [removal_key] if removal_key else [])
        except NotAnUpload as exc:
            raise HTTPException(403, str(exc)) from exc
        except NotYourUpload:  # the same 404 as for none: a 403 told a stranger that it exists, and its title
            removed = False
        if not removed:
            raise HTTPException(404, f"No document {doc_id!r} of yours is indexed: GET /v1/documents lists the "
                                     f"doc_ids, your uploads with the {REMOVAL_KEY_HEADER} they returned.")
        return {"id": doc_id, "object": "document", "deleted": True}

    # Last: any other /v1 request. Under `rag serve` the page is mounted at "/", so an unknown API path (or a
    # known one with another method) reached Gradio and got {"detail": "Not Found"}, not OpenAI's error shape.
    @api.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False,
                   dependencies=authorized)
    def no_such_endpoint(path: str, request: Request) -> None:
        allowed = sorted({method for route in api.routes if isinstance(route, APIRoute) and route.path != "/v1/{path:path}"
                          and route.matches(request.scope)[0] is Match.PARTIAL for method in route.methods or ()})
        if allowed:
            raise HTTPException(405, f"{request.method} is not allowed on /v1/{path}: use {', '.join(allowed)}.",
                                headers={"Allow": ", ".join(allowed)})
        raise HTTPException(404, f"There is no endpoint /v1/{path}; the API reference is /v1/openapi.json.")

    return api


def _serve_docs(api: FastAPI) -> None:
    """The interactive reference at /v1/docs with Swagger UI's files from the ``swagger-ui-bundle`` package:
    FastAPI's page loads them from a CDN, so on a machine without the internet it stayed blank."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    api.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @api.get("/v1/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/v1/openapi.json", title="news-rag API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css", swagger_favicon_url="data:,",
                                   swagger_ui_parameters={"validatorUrl": None})  # its default validator is remote


DOCS_ASSETS = "/v1/docs-assets"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REMOVAL_KEY_HEADER = "X-Removal-Key"  # a header, not a query parameter: access logs keep the URL
MAX_UPLOAD_KEYS = 100  # keys one request may send: each is hashed and compared
UPLOADS_IN_FLIGHT = 2  # one indexing, one waiting for it; more get a 429
# The UI's events carry the whole chat shown (answers with their markup): far more than a question, far
# less than the 150 MB a visitor could post to Gradio's queue before, which the server held in memory.
UI_EVENT_BYTES = 8 * 1024 * 1024


def cross_site_refusal(method: str, host: str, origin: str | None, loopback_names_only: bool) -> str | None:
    """Why a request is refused as another site's doing, or None.

    A browser sends a form POST to any address a page names, and carries no token to check: without
    this, a page on another site could upload to or delete from the library of a server on its
    visitor's machine. It marks such requests with an ``Origin`` other than the server's own. A server
    without a token must also refuse host names that are not loopback ones: a site can make its own
    name resolve to 127.0.0.1 (DNS rebinding) and then be "same-origin" with the server. Behind a reverse
    proxy, the proxy must pass the public name on in ``Host`` (nginx: ``proxy_set_header Host $host``):
    ``X-Forwarded-Host`` is not believed, since any page may send it once Gradio's CORS lets a localhost
    origin's preflight through (a re-check found that bypass). A websocket counts as a change: browsers
    open one to any site without asking it."""
    host_name = (urlsplit(f"//{host}").hostname or "").lower()
    if loopback_names_only and host_name not in LOOPBACK_NAMES:
        return (f"This server has no API token, so it answers only to loopback names (127.0.0.1, localhost), "
                f"not {host_name or 'an empty Host'}; set RAG_API_TOKEN to serve it under another name.")
    if method not in SAFE_METHODS and origin is not None and urlsplit(origin).netloc.lower() != host.lower():
        return f"A page of another site ({origin}) may not change this server's library or answer through it."
    return None


def guards(max_file_bytes: int, loopback_names_only: bool) -> list[Middleware]:
    """What stands before both servers' routes (``rag serve``'s app, ``rag ui``'s Gradio app): body size
    limits by path, then ``CrossSiteGuard``, then ``RemoteFileGuard``."""
    upload_limit = max_file_bytes + MULTIPART_OVERHEAD
    limits = {"/v1/documents": upload_limit, "/v1/": JSON_BODY_BYTES,
              "/gradio_api/upload": upload_limit * MAX_FILES_PER_UPLOAD, "/": UI_EVENT_BYTES}
    return [Middleware(BodyLimit, limits=limits),
            Middleware(CrossSiteGuard, loopback_names_only=loopback_names_only),
            Middleware(RemoteFileGuard)]


class CrossSiteGuard:
    """``cross_site_refusal`` for every request to the app, the UI mounted in it included: a JSON 403."""

    def __init__(self, app: Callable[..., Any], loopback_names_only: bool) -> None:
        self.app, self.loopback_names_only = app, loopback_names_only

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            method = scope.get("method", "WEBSOCKET")
            refusal = cross_site_refusal(method, headers.get("host", ""), headers.get("origin"), self.loopback_names_only)
            if refusal is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await JSONResponse(error_body(403, refusal), 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


_URL = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://")


def names_remote_file(body: bytes) -> bool:
    """Whether a UI event's JSON names a file by URL: a Gradio ``FileData`` whose ``path`` is one."""
    try:
        data = json.loads(body)
    except ValueError:  # not JSON: the route answers it as it would
        return False
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            meta = item.get("meta")
            if (isinstance(meta, dict) and meta.get("_type") == "gradio.FileData" and isinstance(item.get("path"), str)
                    and _URL.match(item["path"])):
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class RemoteFileGuard:
    """A 400 for a UI event that names a file by URL instead of uploading it. Gradio fetches such a file on the
    server, whole into memory, before any handler of ours runs (its own check of "uploaded by the user" is
    for paths): any visitor could make the server download any public URL, of any size, from its address.
    Files reach the Library tab through the upload route only, as the page sends them. The HTTP API's own
    routes (``/v1/``) take files as multipart uploads and are not read here."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        # Whatever its Content-Type says (two headers, one JSON and one not, got past a check of it): a body
        # that is not JSON costs one failed parse. Files, multipart, go to the upload route, not read here.
        if (scope["type"] != "http" or scope.get("method") != "POST" or scope["path"].startswith("/v1/")
                or "/gradio_api/upload" in scope["path"]):
            await self.app(scope, receive, send)
            return
        messages, chunks = [], []  # the body is held to UI_EVENT_BYTES by ``BodyLimit``, in front
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        if names_remote_file(b"".join(chunks)):
            refusal = ("A file must be uploaded (the Library tab), not named by a URL: the server does not fetch "
                       "files for its visitors.")
            await JSONResponse(error_body(400, refusal), 400)(scope, receive, send)
            return
        replay = iter(messages)

        async def replayed() -> dict[str, Any]:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


class BodyLimit:
    """A JSON 413 naming the limit for a body over it: at once when its declared Content-Length is, and
    as soon as the bytes received pass it when it declares none (chunked): Gradio's routes have no limit
    of their own, and a chunked 150 MB body to its queue was read whole into memory."""

    def __init__(self, app: Callable[..., Any], limits: dict[str, int]) -> None:
        self.app, self.limits = app, limits  # path prefix -> bytes, most specific first

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        limit = next((v for prefix, v in self.limits.items() if scope["path"].startswith(prefix)), None) \
            if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, int(declared), limit)
            return
        received, started, refused = 0, False, False

        async def counted() -> dict[str, Any]:
            # Over the limit: the 413 goes out at once, and the app reads on as if the client had left
            # (an exception raised here would be caught by the app and answered as its own 400).
            nonlocal received, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message: dict[str, Any] = await receive()
            received += len(message.get("body", b"")) if message["type"] == "http.request" else 0
            if received <= limit:
                return message
            refused = True
            if not started:
                started = True
                await self._refuse(scope, receive, send, received, limit)
            return {"type": "http.disconnect"}

        async def watched(message: dict[str, Any]) -> None:
            nonlocal started
            if refused:
                return  # the 413 has gone out: the app's own answer to a cut body is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched)

    @staticmethod
    async def _refuse(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any], size: int,
                      limit: int) -> None:
        message = (f"The request body is {size:,} bytes or more; the limit here is {limit:,}. Send a shorter "
                   "question or conversation, or a smaller file (RAG_MAX_FILE_MB).")
        await JSONResponse(error_body(413, message), 413)(scope, receive, send)


def upload_keys(request: Request) -> list[str]:
    """The upload keys a request holds: ``X-Removal-Key`` once per key or comma-separated, as each upload
    returned them. Its questions read those uploads too (``NewsRAG.visitor_filters``)."""
    keys = [key.strip() for value in request.headers.getlist(REMOVAL_KEY_HEADER) for key in value.split(",")]
    return [key for key in keys if key][:MAX_UPLOAD_KEYS]


def _check_question(question: str, settings: Settings, history: list[Message] | None = None) -> None:
    """Refuse an oversized question, or text that is not Unicode, before it queues for the model (the
    engine checks them again): found in the worker, it was a 500, or a 200 stream ending in an error.
    (A source filter's text is refused as the request is read: ``SearchFilters`` checks it.)"""
    texts = [("question", question), *(("chat history", str(turn["content"])) for turn in history or [])]
    for what, text in texts:
        try:
            check_unicode(what, text)
        except InvalidText as exc:
            raise HTTPException(422, str(exc)) from exc
    if len(question) > settings.max_question_chars:
        raise HTTPException(413, f"The question is too long ({len(question):,} characters; the limit is "
                                 f"{settings.max_question_chars:,}, set by RAG_MAX_QUESTION_CHARS). Shorten it.")


def _succeeded(answer: Answer) -> Answer:
    if answer.error:
        raise HTTPException(503, answer.error)
    return answer


async def _sse_stream(items: AsyncIterator[str | Answer | _Waiting], completion_id: str, created: int,
                      include_usage: bool) -> AsyncIterator[bytes]:
    """OpenAI's stream: a role chunk, the checked answer, a final chunk with ``citations``, ``[DONE]``.

    The model's raw words are not forwarded: the citation check may drop or renumber markers, and a
    client cannot take back what it has shown. An error after the headers is an ``error`` event, which
    the openai client raises as ``APIError``."""
    yield sse(chunk_body(completion_id, created, {"role": "assistant", "content": ""}))
    try:
        answer = None
        async for item in items:
            if isinstance(item, _Waiting):
                yield b": keep-alive\n\n"
            elif isinstance(item, Answer):
                answer = item
        if answer is None:
            return  # the client left
        if answer.error:
            yield sse(error_body(503, answer.error))
        else:
            yield sse(chunk_body(completion_id, created, {"content": answer.text}))
            yield sse(chunk_body(completion_id, created, {}, "stop", **rag_fields(answer)))
            if include_usage:
                yield sse({**chunk_body(completion_id, created, {}), "choices": [], "usage": usage_of(answer)})
    except RagError as exc:
        yield sse(error_body(status_of(exc), str(exc)))
    except Exception:  # noqa: BLE001  (logged here; the client gets a message, not a trace)
        log.exception("streaming answer failed")
        yield sse(error_body(500, "Internal error while answering; the server log has the details."))
    yield sse("[DONE]")


def _bearer_check(token: SecretStr | None) -> Callable[..., None]:
    """A dependency comparing the bearer token in constant time; nothing to check when none is set."""
    scheme = HTTPBearer(auto_error=False)

    def check(credentials: HTTPAuthorizationCredentials | None = Depends(scheme)) -> None:
        if token is None:
            return
        given = credentials.credentials if credentials else ""
        if not secrets.compare_digest(given.encode(), token.get_secret_value().encode()):
            raise HTTPException(401, "Missing or wrong API token: send `Authorization: Bearer <token>` with "
                                     "the server's RAG_API_TOKEN (openai clients: api_key=<token>).",
                                headers={"WWW-Authenticate": "Bearer"})
    return check


def _install_error_handlers(api: FastAPI) -> None:
    """Errors become OpenAI-shaped JSON with a status and a message naming the fix; never a traceback."""

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, str(exc.detail)), exc.status_code, headers=exc.headers)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
                             for e in exc.errors())
        return JSONResponse(error_body(422, f"Invalid request: {problems}. The API reference is at /v1/docs."), 422)

    @api.exception_handler(RagError)
    async def engine_error(request: Request, exc: RagError) -> JSONResponse:
        status = status_of(exc)
        hint = " Start the index server, or unset RAG_CHROMA_URL." if isinstance(exc, StoreUnavailableError) else ""
        return JSONResponse(error_body(status, f"{exc}{hint}"), status)

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request to %s failed", request.url.path)
        return JSONResponse(error_body(500, "Internal error; the server log has the details."), 500)


# --- documents -----------------------------------------------------------------------------------------------
def _document_dict(doc: Any) -> dict[str, object]:
    return {"id": doc.doc_id, "object": "document", "title": doc.title, "source": doc.source_name,
            "publisher": doc.publisher, "published": doc.published, "chunks": doc.chunks,
            "ingested_at": doc.ingested_at, "sha256": doc.sha256, "uploaded": doc.uploaded}


def _ingest_uploads(engine: NewsRAG, files: list[UploadFile], keys: list[str], sender: str | None) -> JSONResponse:
    """Save acceptable uploads and index them (the Library tab's rule, ``rag.uploads``); say per file
    why one was refused. ``keys``: the caller's, so the same file again is theirs, unchanged; ``sender``:
    the caller's network, which may keep ``RAG_MAX_UPLOADS_PER_SENDER`` files."""
    limit = engine.settings.max_file_bytes
    intake, report = engine.ingest_uploads(((upload.filename or "upload", upload.file.read(limit + 1))
                                            for upload in files), keys=keys, sender=sender)
    rejected = [{"file": name, "reason": reason} for name, reason in intake.rejected]
    if report is None:
        raise HTTPException(422, "No file could be indexed: " + "; ".join(f"{r['file']}: {r['reason']}"
                                                                          for r in rejected))
    rejected += [{"file": intake.names.get(Path(s.path).resolve(), Path(s.path).name), "reason": s.reason}
                 for s in report.skipped]
    body = {"added": report.added, "updated": report.updated, "rechunked": report.rechunked,
            "unchanged": report.unchanged,
            "rejected": rejected, "renamed": [{"file": name, "saved_as": saved} for name, saved in intake.renamed],
            "warnings": [{"where": Path(w.path).name, "reason": w.reason} for w in report.warnings],  # "feed.jsonl line 3"
            "chunks_embedded": report.chunks_embedded, "seconds": round(report.seconds, 2), "notices": report.notices,
            "removal_key": intake.removal_key}
    return JSONResponse(body, 201 if report.added or report.updated else 200)


# --- running it ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def serve_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` with uvicorn in a background thread; yields its base URL (tests, benchmarks)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True, name="uvicorn")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API server did not start on {host}:{port}")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
