"""One started model server per model file and settings, shared by the whole process.

The UI, the CLI and the eval suite all ask ``shared_server`` for the local model, so it is loaded once;
``stop_shared`` frees it when the user switches to another model or settings.
"""

from __future__ import annotations

import threading
from pathlib import Path

from rag.generation import OTHER_SLOT
from rag.model_server import LocalModelServer

__all__ = ["shared_server", "stop_shared"]

# One slot for each kind of chat (``rag.generation.CHAT_SLOTS``): the evidence choice, and the answer
# written in its cached prompt; the second look, and the short answer's likelihood read in its cached
# prompt; a follow-up's rewrite; anything else. With a slot each none evicts another from the KV cache.
# Each request names its chat's slot rather than letting the server pick one by similarity, and a new
# chat starts from its system prompt alone (``ChatClient.begin``), so an answer does not depend on what
# was asked before. Measured: two slots (the choice and the second look) made the look 0.30 s sooner at
# the median (2.53 -> 2.23 s, 21 of 23 faster; 30 news_dev tuning questions alternating in one process,
# every decision and text the same; 2026-12-04); with the likelihoods read, four instead of two made the
# first shown word 1.3 s sooner at the median (12.6 -> 11.3 s on 17 answers of the holdout's first 20,
# every decision and text the same; session 28). The KV cache is per slot: four times
# ``RAG_LOCAL_CONTEXT``'s memory (~460 MB at 4096 for this model).
SLOTS = OTHER_SLOT + 1

_shared: dict[tuple[Path, int, int], LocalModelServer] = {}
_shared_lock = threading.Lock()


def shared_server(model_path: Path, threads: int = 0, context: int = 4096) -> LocalModelServer:
    """The process-wide started server for these settings, so the UI, CLI and eval load the model once."""
    key = (Path(model_path).expanduser().resolve(), threads, context)
    with _shared_lock:
        server = _shared.get(key)
        if server is None:
            server = _shared[key] = LocalModelServer(key[0], threads=threads, context=context, parallel=SLOTS)
    server.start()  # outside the registry lock: loading takes seconds; start() has its own lock
    return server


def stop_shared(base_url: str) -> bool:
    """Stop the shared server at ``base_url`` (its model was replaced) and forget it; False if none was."""
    with _shared_lock:
        key = next((k for k, server in _shared.items() if server.serves(base_url)), None)
        server = _shared.pop(key) if key is not None else None
    if server is None:
        return False
    server.stop()
    return True
