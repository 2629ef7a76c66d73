"""The local model's threads on an idle and on a busy host (``rag.cpu``): seconds per answer.

Each configuration answers the first seed questions in a fresh process (its own llama.cpp server, so the
thread count is chosen anew), idle and with another process keeping one core busy (a Python loop, started
before the engine so the default sees it). Configurations: the default (``RAG_LOCAL_THREADS=0``, one per
free core), every core, and one thread. What it shows on 2 cores: every core is fastest idle and by far
the slowest when a core is shared; the default should match the faster of the two in both.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from eval.bench import machine
from eval.bench.answer import SEEDS, SEEDS_DEV
from eval.bench.server import in_child

SPIN = "import os\nparent = os.getppid()\nwhile os.getppid() == parent: pass"  # ends if the bench is killed


def run(work: Path, questions: int = 4, busy: bool = True) -> dict[str, object]:
    """Median seconds per answer of each thread setting, idle and (``busy``) with one core busy elsewhere."""
    cores = machine.cores()
    settings = {"default (0)": 0, f"every core ({cores})": cores, "one": 1}
    rows = []
    for spinning in (False, True) if busy else (False,):
        for name, threads in settings.items():
            with _spinning(spinning):
                figures = in_child(_answer, str(work), threads, questions)
            rows.append({"setting": name, "one_core_busy": spinning, **figures})
    return {"cores": cores, "questions": questions, "rows": rows, "load_after": machine.load()}


@contextlib.contextmanager
def _spinning(busy: bool) -> Iterator[None]:
    """Another process keeping one core busy while the block runs (nothing when ``busy`` is False)."""
    if not busy:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def _answer(work: str, threads: int, questions: int) -> dict[str, object]:
    from rag import NewsRAG, Settings

    engine = NewsRAG(Settings(data_dir=Path(work) / "index-seeds", llm="local", chroma_url=None,
                              local_threads=threads, answer_cache=0))
    engine.ingest([SEEDS])
    items = [json.loads(line) for line in SEEDS_DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    engine.ask(items[-1]["question"])  # warm-up: model load, system prompt
    seconds = []
    for item in items[:questions]:
        started = time.perf_counter()
        engine.ask(item["question"])
        seconds.append(round(time.perf_counter() - started, 1))
    assert engine.chat_client is not None
    return {"threads_used": engine.chat_client.threads, "seconds": seconds,
            "median_s": round(statistics.median(seconds), 1)}
