"""Uploads: check what the browser sent, then copy it to a stable folder before ingestion.

Gradio keeps uploads in a temporary folder; the engine derives an article's ``doc_id`` from its absolute
path, so a file is ingested from ``<data_dir>/uploads/`` where the same name always gives the same id
(uploading a changed file with the same name updates the article instead of duplicating it).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

UPLOAD_TYPES = (".txt", ".md", ".html", ".htm", ".jsonl")
SNIFF_BYTES = 8192  # enough to tell a text file from a binary one renamed to .txt


@dataclass
class Intake:
    """Uploaded files copied into the uploads folder, and the ones refused with a reason."""

    accepted: list[Path] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)


def upload_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "uploads"


def take_uploads(paths: list[str], destination: Path, max_bytes: int) -> Intake:
    """Copy acceptable uploads into ``destination``; refuse wrong types, binaries and oversized files."""
    intake = Intake()
    destination.mkdir(parents=True, exist_ok=True)
    for raw in paths:
        path = Path(raw)
        reason = upload_problem(path, max_bytes)
        if reason:
            intake.rejected.append((path.name, reason))
            continue
        target = destination / safe_name(path.name)
        shutil.copyfile(path, target)
        intake.accepted.append(target.resolve())
    return intake


def upload_problem(path: Path, max_bytes: int) -> str | None:
    """Why this file cannot be ingested, or None when it looks fine."""
    if path.suffix.lower() not in UPLOAD_TYPES:
        return f"unsupported type '{path.suffix or 'none'}' (accepted: {', '.join(UPLOAD_TYPES)})"
    size = path.stat().st_size
    if size > max_bytes:
        return f"too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB)"
    if size == 0:
        return "empty file"
    with path.open("rb") as handle:
        if b"\x00" in handle.read(SNIFF_BYTES):
            return "binary content, not text"
    return None


def safe_name(name: str) -> str:
    """A file name without folders or odd characters, so an upload cannot land outside its folder."""
    return re.sub(r"[^\w.\-]+", "_", Path(name).name).lstrip(".") or "upload"
