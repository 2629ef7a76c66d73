"""A small JSON object in one file that several processes share (the UI and ``rag serve`` on one index).

Read whole, written whole through a temporary file and ``os.replace``, so a killed process leaves the old
file or the new one, never half of one; an unreadable file reads as empty (what it held is written again).
"""

from __future__ import annotations

import json
import os
import threading
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
