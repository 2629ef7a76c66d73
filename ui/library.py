"""Uploads: check what the browser sent, then copy it to a stable folder before ingestion.

Gradio keeps uploads in a temporary folder; the engine derives an article's ``doc_id`` from its absolute
path, so a file is ingested from ``<data_dir>/uploads/``. The library is shared by every visitor, so an
upload whose name is taken by a different file never replaces it: it is kept as ``name-2.ext`` (the
same bytes again are simply the same article). Removing an article frees its name.
"""

from __future__ import annotations

import filecmp
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

UPLOAD_TYPES = (".txt", ".md", ".html", ".htm", ".jsonl")
SNIFF_BYTES = 8192  # enough to tell a text file from a binary one renamed to .txt


@dataclass
class Intake:
    """Uploaded files copied into the uploads folder, and the ones refused with a reason."""

    accepted: list[Path] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (file name, name it was saved under)


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
        target = free_target(destination / safe_name(path.name), path, taken=intake.accepted)
        if target.name != path.name and target.name != safe_name(path.name):
            intake.renamed.append((path.name, target.name))
        if not target.exists():
            shutil.copyfile(path, target)
        intake.accepted.append(target.resolve())
    return intake


def free_target(wanted: Path, upload: Path, taken: Sequence[Path] = ()) -> Path:
    """``wanted``, or the first ``stem-N.ext`` that is free or already holds these very bytes."""
    candidate, n = wanted, 1
    while candidate.exists() or candidate.resolve() in taken:
        if candidate.resolve() not in taken and filecmp.cmp(candidate, upload, shallow=False):
            return candidate  # the same file again: the same article, nothing replaced
        n += 1
        candidate = wanted.with_name(f"{wanted.stem}-{n}{wanted.suffix}")
    return candidate


def forget_upload(source: str, destination: Path, remaining: Sequence[object]) -> None:
    """Delete a removed article's uploaded file, unless another indexed article still comes from it."""
    path = Path(source.split("#", 1)[0])
    if path.parent.resolve() != destination.resolve() or not path.is_file():
        return
    if any(Path(str(getattr(doc, "source", "")).split("#", 1)[0]).resolve() == path.resolve() for doc in remaining):
        return
    path.unlink()


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
