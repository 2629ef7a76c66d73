"""Does the model know the answers without the articles? Each answerable question asked closed-book.

The news sets are CNN/DailyMail stories of 2007-2015, which a model may have read in training. If it
had memorised them, its confidence on them would not carry over to news it has never seen, and the
figures of ``rag bench news`` would flatter it. This asks every answerable question with no article,
in a few words or "Unknown", and judges the reply with the eval's lexical judge.

Usage: ``python -m eval.bench.closed_book OUT.jsonl DATASET.jsonl [DATASET.jsonl ...]`` (resumes OUT:
a question it holds is not asked again), then the right replies of each dataset are printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from eval.dataset import load_dataset
from eval.metrics import must_recall

PROMPT = ("Answer this question about a news story from memory in a few words. "
          "If you do not know, reply Unknown.\n\nQuestion: {question}")
MAX_TOKENS = 16  # a few words: the fact or "Unknown", not an essay the judge could find anything in


def row_id(dataset: Path, item_id: str) -> str:
    """Ids repeat across datasets ("h001"), so a row is named by both."""
    return f"{dataset.stem}:{item_id}"


def right_by_dataset(rows: Iterable[Mapping[str, object]]) -> dict[str, tuple[int, int]]:
    """(right, asked) for each dataset named in the rows' ids."""
    counts: dict[str, tuple[int, int]] = {}
    for row in rows:
        dataset = str(row["id"]).split(":", 1)[0]
        right, asked = counts.get(dataset, (0, 0))
        counts[dataset] = (right + bool(row["right"]), asked + 1)
    return counts


def ask(out: Path, datasets: Sequence[Path]) -> None:  # pragma: no cover - runs the local model
    from rag import Settings, build_chat_client

    done = {json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()} if out.exists() else set()
    chat = build_chat_client(Settings(llm="local", chroma_url=None))
    with out.open("a", encoding="utf-8") as sink:
        for dataset in datasets:
            for item in load_dataset(dataset):
                if item.unanswerable or row_id(dataset, item.id) in done:
                    continue
                reply = chat.complete([{"role": "user", "content": PROMPT.format(question=item.question)}],
                                      max_tokens=MAX_TOKENS)
                text = reply.choices[0].message.content or ""
                row = {"id": row_id(dataset, item.id), "reply": text, "right": must_recall(text, item.must) == 1.0}
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                sink.flush()


def main(argv: Sequence[str]) -> int:  # pragma: no cover - runs the local model
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, datasets = Path(argv[0]), [Path(name) for name in argv[1:]]
    ask(out, datasets)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for dataset, (right, asked) in right_by_dataset(rows).items():
        print(f"{dataset}: {right}/{asked} right closed-book")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
