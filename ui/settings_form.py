"""The settings tab: what a visitor may choose for their own browser session, and nothing else.

Server-level settings (base URL, API key, model file, data dir) belong to the operator: a page that
could change them would let any visitor send the stored key to their own server, or probe the server's
files through the model-loading error. So the page offers only choices among what the operator set up
(``available_backends``), keeps them in Gradio session state (``Choices``), and ``SessionEngines``
answers each session with a view of the one shared engine that carries those choices.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

from rag import NewsRAG, Settings

BACKENDS = ("local", "openai", "extractive")
BACKEND_HELP = {
    "local": "The model this server runs on its own CPU.",
    "openai": "The OpenAI-compatible server the operator configured.",
    "extractive": "No model: the answer is the best-supported sentences, quoted from the articles.",
}
MAX_PAGE_TOP_K = 20  # more passages than this only make answers slower


@dataclass(frozen=True)
class Choices:
    """One browser session's choices; None means the operator's setting."""

    llm: str | None = None
    top_k: int | None = None


def available_backends(settings: Settings) -> tuple[str, ...]:
    """The operator's backend and those they offer visitors (``RAG_UI_BACKENDS``); ``openai`` only with a
    key or a base URL configured. A backend is offered only by name: an OpenAI key in the environment is
    not an offer to spend it, nor is the bundled model an offer to load it on a server set to extractive."""
    configured = settings.openai_api_key is not None or bool(settings.openai_base_url)
    offered = {settings.llm, *settings.ui_backends}
    return tuple(b for b in BACKENDS if b in offered and (b != "openai" or configured or settings.llm == "openai"))


def checked_choices(settings: Settings, backend: object, top_k: object) -> Choices:
    """What the form sent, checked: anything outside the operator's offer raises ValueError."""
    offered = available_backends(settings)
    if backend not in offered:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(offered)}")
    try:
        k = int(float(top_k))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"top-k must be a number from 1 to {MAX_PAGE_TOP_K}, got {top_k!r}") from None
    if not 1 <= k <= MAX_PAGE_TOP_K:
        raise ValueError(f"top-k must be from 1 to {MAX_PAGE_TOP_K}, got {k}")
    return Choices(llm=str(backend), top_k=k)


def effective(settings: Settings, choices: Choices | None) -> tuple[str, int]:
    """The backend and top-k a session answers with (its choice, or the operator's)."""
    choices = choices or Choices()
    llm = choices.llm if choices.llm in available_backends(settings) else settings.llm
    return str(llm), choices.top_k or settings.top_k


class SessionEngines:
    """Views of the shared engine, one per (backend, top-k): the same index, embedding model, keyword
    index and lock, only ``settings.llm``/``top_k`` differ. The engine itself is never reconfigured, so
    one visitor's choice never changes another's answers. Views are dropped when the operator's settings
    change (``NewsRAG.configure``), so they never outlive a model that was replaced."""

    def __init__(self, engine: NewsRAG) -> None:
        self.engine = engine
        self._views: dict[tuple[str, int], NewsRAG] = {}
        self._base: Settings | None = None
        self._lock = threading.Lock()

    def for_session(self, choices: Choices | None) -> NewsRAG:
        settings = self.engine.settings
        llm, top_k = effective(settings, choices)
        if (llm, top_k) == (settings.llm, settings.top_k):
            return self.engine
        with self._lock:
            if self._base is not settings:
                self._views, self._base = {}, settings
            view = self._views.get((llm, top_k))
            if view is None:
                _ = self.engine.retriever  # create the shared parts first, so the copy shares them
                view = copy.copy(self.engine)
                view.settings = settings.model_copy(update={"llm": llm, "top_k": top_k})
                if llm != settings.llm:
                    view.__dict__.pop("chat_client", None)
                self._views[(llm, top_k)] = view
            return view


def settings_summary(settings: Settings, choices: Choices | None = None) -> str:
    """One line saying what will answer this session's next question (no URL, path or key)."""
    llm, top_k = effective(settings, choices)
    model = {"local": "the server's local model", "openai": f"{settings.openai_model}",
             "extractive": "no model"}[llm]
    return f"Answering with **{llm}** ({model}), reading the top **{top_k}** passages."
