"""A ``chroma run`` server on a free loopback port, and a way to run a function in a fresh process.

An embedded Chroma path belongs to one process at a time, so the benchmarks measure the embedded
store in a child process and then serve the same folder with ``chroma run`` from the parent.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def chroma_server(path: Path, timeout: float = 120.0) -> Iterator[str]:
    """Serve the Chroma folder ``path`` on 127.0.0.1; yields ``http://127.0.0.1:PORT``; stops it after."""
    port = free_port()
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if chroma is None:
        raise RuntimeError("the `chroma` command is missing (it ships with the chromadb package)")
    log_path = path.parent / f"chroma-server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, timeout, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(url: str, process: subprocess.Popen, timeout: float, log: Path) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with code {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"chroma run did not answer {url} within {timeout:.0f} s; see {log}")


def in_child(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a fresh (spawned) process: its own memory, its own embedded Chroma."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), initializer=_exit_with_parent,
                             initargs=(os.getpid(),)) as pool:
        return pool.submit(function, *args).result()


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    """In the child: exit as soon as ``parent`` is gone. A parent killed outright (SIGKILL, a CI
    timeout) cannot stop its worker, which would otherwise run the benchmark to its end, for nobody."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
