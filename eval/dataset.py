"""Eval datasets: JSON lines of ``id, question, answer, must, sources, unanswerable`` (+ optional ``history``).

Loading validates every line and fails on the first bad one with its line number and field, because a
typo in a gold file otherwise shows up as a mysteriously low score.
"""

from __future__ import annotations

import difflib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class DatasetError(ValueError):
    """A dataset line is not valid JSON or misses/mistypes a field; the message says where."""


@dataclass(frozen=True)
class EvalItem:
    """One question with its gold facts. ``must`` items are ``a|b`` alternatives; ``sources`` are file names,
    or ``file#key`` for one article of a collection file (``metrics.names_article``)."""

    id: str
    question: str
    answer: str = ""
    must: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    unanswerable: bool = False
    history: tuple[dict[str, str], ...] = field(default_factory=tuple)


_REQUIRED: dict[str, type] = {"id": str, "question": str, "must": list, "sources": list, "unanswerable": bool}
_OPTIONAL: dict[str, type] = {"answer": str, "history": list}


def parse_item(record: Any, where: str) -> EvalItem:
    """Validate one decoded line; ``where`` ("FILE line N") prefixes every error."""
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for name, kind in _REQUIRED.items():
        if name not in record:
            raise DatasetError(f"{where}: missing field {name!r}")
    for name, kind in {**_REQUIRED, **_OPTIONAL}.items():
        if name in record and not isinstance(record[name], kind):
            raise DatasetError(f"{where}: field {name!r} must be {kind.__name__}, got {type(record[name]).__name__}")
    # A misspelt optional field was ignored: "histroy" asked a follow-up without its conversation, unnoticed.
    # A field close to a known one is taken for a typo; any other is a team's own note and is kept out of the way.
    for name in sorted(record.keys() - _REQUIRED.keys() - _OPTIONAL.keys()):
        if close := difflib.get_close_matches(name, [*_REQUIRED, *_OPTIONAL], n=1):
            raise DatasetError(f"{where}: unknown field {name!r} (did you mean {close[0]!r}?)")
    for name in ("id", "question"):
        if not record[name].strip():
            raise DatasetError(f"{where}: field {name!r} is empty")
    if record["unanswerable"] and record["must"]:
        raise DatasetError(f"{where}: an unanswerable item has no facts to find: leave 'must' empty")
    _check_strings(record["must"], "must", where)
    _check_strings(record["sources"], "sources", where)
    if not record["unanswerable"] and not (record["must"] or record["sources"] or record.get("answer")):
        raise DatasetError(f"{where}: an answerable item needs 'must', 'sources' or 'answer' to be scored")
    history = tuple(_history_turn(turn, where) for turn in record.get("history", []))
    return EvalItem(record["id"], record["question"], record.get("answer", ""), tuple(record["must"]),
                    tuple(record["sources"]), record["unanswerable"], history)


def _check_strings(values: list[Any], name: str, where: str) -> None:
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise DatasetError(f"{where}: field {name!r} must be a list of non-empty strings")


def _history_turn(turn: Any, where: str) -> dict[str, str]:
    if not (isinstance(turn, dict) and turn.get("role") in ("user", "assistant") and isinstance(turn.get("content"), str)):
        raise DatasetError(f"{where}: each 'history' turn needs role user|assistant and a string content")
    return {"role": turn["role"], "content": turn["content"]}


def load_dataset(path: Path) -> list[EvalItem]:
    """All items of a JSON-lines file (blank lines skipped); ids must be unique."""
    if not path.is_file():
        raise DatasetError(f"{path}: {'a folder, not a' if path.is_dir() else 'no such'} dataset file (JSON Lines)")
    items: list[EvalItem] = []
    seen: dict[str, int] = {}  # id -> its line
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg})") from exc
        item = parse_item(record, where)
        if item.id in seen:
            raise DatasetError(f"{where}: duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: the dataset has no items")
    return items


def select(items: Sequence[EvalItem], max_items: int | None, seed: int) -> list[EvalItem]:
    """All items, or ``max_items`` drawn with ``seed`` (kept in dataset order, for readable reports)."""
    if max_items is None or max_items >= len(items):
        return list(items)
    if max_items < 1:
        raise ValueError(f"max_items must be >= 1, got {max_items}")
    chosen = set(random.Random(seed).sample(range(len(items)), max_items))
    return [item for i, item in enumerate(items) if i in chosen]
