"""Chat generation through the ``openai`` client: OpenAI, any OpenAI-compatible server, or the local model.

The local model is served by xllamacpp on a loopback port (``model_server.py``), so all three go
through this one code path. Every failure becomes a ``BackendError`` naming the setting to fix.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import openai

from rag import prompts
from rag.errors import BackendError, ConfigError
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.model_server import LocalModelServer

Message = dict[str, str]

# The bundled server's KV-cache slot each kind of chat owns, told by its system prompt: the evidence
# choice and the answer written after it; the second look and the short answer's likelihood after it;
# a follow-up's rewrite; anything else (example questions, the eval's judge, the naive pipeline).
# ``rag.model_registry.SLOTS`` starts one slot for each.
CHAT_SLOTS = {prompts.ANSWER_SYSTEM: 0, prompts.PASSAGE_SYSTEM: 1, prompts.REWRITE_SYSTEM: 2}
OTHER_SLOT = 3


def slot_of(messages: list[Message]) -> int:
    """The slot of the chat ``messages`` belong to (``CHAT_SLOTS``)."""
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else None
    return CHAT_SLOTS.get(system, OTHER_SLOT)  # type: ignore[arg-type]


def opening(messages: list[Message]) -> list[Message]:
    """What ``ChatClient.begin`` leaves in a slot: the chat's system prompt and an empty first turn."""
    return [*(m for m in messages[:1] if m["role"] == "system"), {"role": "user", "content": ""}]


def without_credentials(url: str | None) -> str | None:
    """A server's URL as messages may show it: a ``user:password@`` in it would reach every visitor who
    sees the error in the chat or the API's 503."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=f"{netloc}:{parts.port}" if parts.port else netloc))


@dataclass
class Usage:
    """Filled in while a stream runs: what the prompt cost and when the first token came."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_seconds: float | None = None
    # With ``top_logprobs``: per generated token, its text and the model's alternatives (token, logprob).
    tokens: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class ChatClient:
    """One model behind an OpenAI-compatible endpoint."""

    def __init__(self, backend: str, model: str, base_url: str | None, api_key: str, timeout: float,
                 takes_grammar: bool = False) -> None:
        self.backend = backend
        self.model = model
        self.base_url = base_url
        # llama.cpp's server constrains decoding to a GBNF ``grammar``; OpenAI rejects the field.
        self.takes_grammar = takes_grammar
        self.server: LocalModelServer | None = None  # local: the server behind ``base_url``
        self._api_key, self._timeout = api_key, timeout
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=1)

    @property
    def threads(self) -> int | None:
        """Local: the threads llama.cpp has now (-1: its own choice; ``rag.cpu``); None for other servers."""
        return self.server.threads if self.server is not None else None

    def _openai(self) -> openai.OpenAI:
        """The openai client, following a local server that reloaded on another port (``refit_threads``:
        its own port is reused unless another process took it meanwhile)."""
        if self.server is not None and self.server.running and self.server.base_url != self.base_url:
            self.base_url = self.server.base_url
            self._client = openai.OpenAI(base_url=self.base_url, api_key=self._api_key, timeout=self._timeout,
                                         max_retries=1)
        return self._client

    def begin(self, messages: list[Message]) -> None:
        """Start a new chat of ``messages``' kind: on the bundled server, its slot is brought back to the
        chat's system prompt, so the new prompt is computed from the same point, in one batch, whatever
        was asked before. Elsewhere nothing.

        Why: llama.cpp reuses the longest cached prefix, and a prompt computed partly from the cache (or,
        asked again, all but its last token) comes out slightly different: one news_dev question's choice
        token read P(none) 0.236, 0.229 and 0.215 as its first ask, after another question about the same
        article, and asked again (2026-12-06). An answer then depended on what anyone had asked before:
        a probability moved by up to 0.025, and a short answer changed. The reset evaluates ~5 tokens
        (0.1 s on a 2-core CPU); a question asked again is now computed again, not read from the cache."""
        if self.server is not None:
            self.complete(opening(messages), max_tokens=1)  # the same system prompt: the same slot

    def _server_fields(self, messages: list[Message], grammar: str | None = None) -> dict[str, Any]:
        """llama.cpp's own request fields: the grammar where the server takes one; on the bundled server,
        the slot the chat owns (``slot_of``), so no other kind of chat evicts its prompt."""
        fields: dict[str, Any] = {"grammar": grammar} if grammar and self.takes_grammar else {}
        if self.server is not None:
            fields["id_slot"] = slot_of(messages)
        return fields

    def stream(self, messages: list[Message], max_tokens: int, temperature: float = 0.0,
               usage: Usage | None = None, stop: list[str] | None = None,
               grammar: str | None = None, top_logprobs: int = 0) -> Iterator[str]:
        """Yield text deltas; ``usage`` is updated as the stream goes.

        ``grammar`` constrains the output where the server can (``takes_grammar``) and is ignored elsewhere.
        ``top_logprobs`` > 0 records each token's alternatives in ``usage.tokens``. Closing the generator
        closes the HTTP stream, which stops the server generating."""
        usage = usage if usage is not None else Usage()
        started = time.perf_counter()
        extra_body = self._server_fields(messages, grammar) or None
        logprobs: dict[str, Any] = {"logprobs": True, "top_logprobs": top_logprobs} if top_logprobs else {}
        with self._errors():
            stream = self._openai().chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens, temperature=temperature,  # type: ignore[arg-type]
                stream=True, stream_options={"include_usage": True}, stop=stop, extra_body=extra_body, **logprobs,
            )
            with stream:
                for chunk in stream:
                    if chunk.usage:
                        usage.prompt_tokens = chunk.usage.prompt_tokens
                        usage.completion_tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        _record_logprobs(choice, usage)
                        delta = choice.delta.content or ""
                        if delta:
                            if usage.first_token_seconds is None:
                                usage.first_token_seconds = time.perf_counter() - started
                            yield delta

    def complete(self, messages: list[Message], max_tokens: int, temperature: float = 0.0,
                 **extra: Any) -> Any:
        """One non-streamed completion (the judge uses ``logprobs``/``top_logprobs`` through ``extra``)."""
        if fields := self._server_fields(messages):
            extra = {**extra, "extra_body": {**fields, **(extra.get("extra_body") or {})}}
        with self._errors():
            return self._openai().chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens,  # type: ignore[arg-type]
                temperature=temperature, **extra,
            )

    def _errors(self):  # type: ignore[no-untyped-def]
        return _translate_errors(self)


def _record_logprobs(choice: Any, usage: Usage) -> None:
    for token in getattr(getattr(choice, "logprobs", None), "content", None) or []:
        alternatives = [(alt.token, alt.logprob) for alt in (token.top_logprobs or [])]
        usage.tokens.append((token.token, alternatives or [(token.token, token.logprob)]))


class _translate_errors:
    """Turn the openai client's exceptions into messages that say which setting to fix."""

    def __init__(self, client: ChatClient) -> None:
        self.client = client

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or not isinstance(exc, openai.OpenAIError):
            return False
        where = without_credentials(self.client.base_url) or "api.openai.com"
        c = self.client
        if c.backend == "local" and isinstance(exc, (openai.APIConnectionError, openai.APITimeoutError,
                                                     openai.NotFoundError)):
            # The bundled model's loopback server: the OpenAI settings are not the user's to fix here.
            message = (f"the bundled model's server at {where} did not answer ({type(exc).__name__}). Run the "
                       "command again; if it keeps failing, raise RAG_REQUEST_TIMEOUT, lower RAG_LOCAL_CONTEXT, "
                       "or use RAG_LLM=extractive.")
        elif isinstance(exc, openai.AuthenticationError):
            message = f"{where} rejected the API key (401). Set OPENAI_API_KEY to a valid key."
        elif isinstance(exc, openai.APITimeoutError):
            message = f"{where} did not answer in time. Raise RAG_REQUEST_TIMEOUT or check the server's load."
        elif isinstance(exc, openai.APIConnectionError):
            message = (f"Cannot connect to {where}. Check that the server is running and RAG_OPENAI_BASE_URL "
                       "is right (e.g. http://127.0.0.1:8000/v1).")
        elif isinstance(exc, openai.NotFoundError):
            message = f"{where} has no model {c.model!r}. Set RAG_OPENAI_MODEL to a model it serves."
        elif isinstance(exc, openai.RateLimitError):
            message = f"{where} refused the request: rate limit or quota exceeded (429). Try again later."
        elif isinstance(exc, openai.BadRequestError) and "context" in str(exc).lower():
            raise ContextOverflow(str(exc)) from exc
        else:
            message = f"{where} failed: {exc}"
        raise BackendError(f"The {c.backend} backend failed. {message}") from exc


class ContextOverflow(BackendError):
    """The prompt did not fit the model's context window; the caller retries with fewer sources."""


def build_chat_client(settings: Settings) -> ChatClient:
    """The client for ``RAG_LLM``: the bundled local model (started on demand) or an OpenAI-compatible server."""
    if settings.llm == "local":
        from rag.model_files import ensure_model
        from rag.model_registry import shared_server

        path = ensure_model(settings.model_dir, settings.local_model)
        server = shared_server(path, settings.local_threads, settings.local_context)
        client = ChatClient("local", server.model_name, server.base_url, "local", settings.request_timeout,
                            takes_grammar=True)
        client.server = server
        return client
    if settings.llm == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        if not key and not settings.openai_base_url:
            raise ConfigError("The openai backend (RAG_LLM=openai, or an openai judge) needs an API key: set "
                              "OPENAI_API_KEY, or set RAG_OPENAI_BASE_URL "
                              "to an OpenAI-compatible server that needs none (vLLM, Ollama, llama.cpp).")
        return ChatClient("openai", settings.openai_model, settings.openai_base_url, key or "unused",
                          settings.request_timeout)
    raise ConfigError(f"RAG_LLM={settings.llm!r} has no chat model (choose local or openai)")
