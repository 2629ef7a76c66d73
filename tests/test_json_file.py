"""The small JSON files the UI and `rag serve` share beside one index (removal keys, examples, answers)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from rag.json_file import read_object, update_object

WRITERS, CHANGES = 4, 40


def _add_own_entries(path: str, writer: int) -> None:
    for n in range(CHANGES):
        update_object(Path(path), lambda held, n=n: {**held, f"{writer}-{n}": n})


def test_changes_from_several_processes_at_once_are_all_kept(tmp_path: Path) -> None:
    """Each writer read the file, added its entry and wrote it back: two at once wrote over each other's
    entry (a stress test of two processes granting upload removal keys lost a third of them)."""
    path = tmp_path / "upload-keys.json"
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_add_own_entries, args=(str(path), w)) for w in range(WRITERS)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(60)
    assert all(process.exitcode == 0 for process in writers)
    assert len(read_object(path)) == WRITERS * CHANGES
