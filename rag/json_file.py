"""A small JSON object in one file that several processes share (the UI and ``rag serve`` on one index).

Read whole, written whole through a temporary file and ``os.replace``, so a killed process leaves the old
file or the new one, never half of one; an unreadable file reads as empty (what it held is written again).
A change (``update_object``) reads and writes under an exclusive lock, so two writers never lose each other's.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


def read_object(path: Path) -> dict[str, object]:
    """The file's object, or ``{}`` when it is missing, unreadable or not an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_object(path: Path, data: dict[str, object]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=0), encoding="utf-8")
    os.replace(partial, path)


def update_object(path: Path, change: Callable[[dict[str, object]], dict[str, object]]) -> None:
    """Write ``change(current object)``, read and written under an exclusive lock: two processes (or
    threads) that read, changed and wrote the file at once each wrote over the other's change (a stress
    test of two processes granting upload removal keys lost a third of them)."""
    path = Path(path)
    with exclusive(path):
        write_object(path, change(read_object(path)))


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on a file beside ``path``: it holds across processes, and across threads,
    since each call opens the lock file anew."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
