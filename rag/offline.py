"""Keep third-party libraries from reaching the internet. Applied when ``rag`` is imported.

Each line answers a trap listed in STACK.md; ``setdefault`` lets a user who is online opt back in.
"""

from __future__ import annotations

import os
from pathlib import Path


def apply_offline_defaults() -> None:
    import llama_index.core

    static = Path(llama_index.core.__file__).parent / "_static"
    # llama-index bundles the tiktoken files but only its own get_tokenizer() uses them; every other
    # tiktoken.get_encoding() downloads, with no timeout.
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(static / "tiktoken_cache"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # gradio_client otherwise calls the hub synchronously
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # version check + analytics calls
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # Chroma
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
