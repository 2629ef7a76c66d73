"""An answer-quality set far larger than seeds_dev, built from HaluEval's HotpotQA items.

``rag eval`` is then run on it like on any dataset. Answerable questions are items whose knowledge
passage is indexed; unanswerable ones are later items whose passage is left out of the index but
whose question names someone or something the indexed passages mention: near misses, which is where
a small model answers anyway. seeds_dev has 7 unanswerable questions (one is 14 points); this set
has as many as asked for.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from eval.bench.corpus import file_name, passage_id, write_files
from eval.halueval import load_items
from eval.metrics import mentions
from rag.text import names

MAX_ANSWER_WORDS = 3  # longer reference answers are rarely repeated word for word, so `must` would misjudge
_GLUED = re.compile(r"(?<=[a-z0-9)\"'])\.(?=[A-Z])")  # HaluEval joins supporting sentences without a space


@dataclass(frozen=True)
class QaSet:
    corpus: Path  # one passage per .jsonl file, so a citation names its passage
    dataset: Path  # rag eval's format
    passages: int
    answerable: int
    unanswerable: int


def unglue(knowledge: str) -> str:
    """'...19th century.First for Women is...' -> '... century. First ...': sentences the splitter sees."""
    return _GLUED.sub(". ", " ".join(knowledge.split()))


def write_qa_set(work: Path, indexed: int, answerable: int, unanswerable: int, seed: int = 11) -> QaSet:
    """Corpus and questions under ``<work>/hotpotqa-qa-<indexed>/`` (re-used when unchanged)."""
    rows = load_items("qa")
    indexed = min(indexed, len(rows))
    folder = work / f"hotpotqa-qa-{indexed}"
    passages: dict[str, str] = {}
    for row in rows[:indexed]:
        text = unglue(row["knowledge"])
        passages.setdefault(passage_id(text), text)
    files = write_files(folder / "corpus", "p", [{"id": pid, "title": "", "text": text, "source": "HotpotQA"}
                                                  for pid, text in passages.items()], per_file=1)
    file_of = {pid: file_name("p", i) for i, pid in enumerate(passages)}
    rng = random.Random(seed)
    items = _answerable(rows[:indexed], file_of, rng, answerable)
    items += _unanswerable(rows[indexed:], passages, rng, unanswerable)
    dataset = folder / f"questions-{answerable}-{unanswerable}-seed{seed}.jsonl"
    dataset.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")
    return QaSet(files, dataset, len(passages), sum(not i["unanswerable"] for i in items),
                 sum(i["unanswerable"] for i in items))


def _gradable(row: dict) -> bool:  # type: ignore[type-arg]
    """A short answer `must` can check: not yes/no, and not one of two names the question offers
    ("Who is older, A or B?": a wrong answer names the right one too)."""
    answer = row["right_answer"]
    return (0 < len(answer.split()) <= MAX_ANSWER_WORDS and answer.lower() not in ("yes", "no")
            and not mentions(row["question"], answer))


def must_alternatives(answer: str, question: str) -> str:
    """The reference answer, or for a multi-word name its last word ("Count Francesco Baracca" ->
    "Baracca") unless the question already says it (then every answer would contain it)."""
    words = answer.split()
    last = words[-1].strip(".,")
    if len(words) > 1 and all(w[0].isupper() for w in words) and len(last) >= 4 \
            and not mentions(question, last):
        return f"{answer}|{last}"
    return answer


def _answerable(rows: list[dict], file_of: dict[str, str], rng: random.Random, n: int) -> list[dict]:  # type: ignore[type-arg]
    order = [i for i, row in enumerate(rows) if _gradable(row)]
    rng.shuffle(order)
    return [{"id": f"hq{i:05d}", "question": rows[i]["question"], "answer": rows[i]["right_answer"],
             "must": [must_alternatives(rows[i]["right_answer"], rows[i]["question"])], "unanswerable": False,
             "sources": [file_of[passage_id(unglue(rows[i]["knowledge"]))]]} for i in order[:n]]


def _unanswerable(rows: list[dict], passages: dict[str, str], rng: random.Random, n: int) -> list[dict]:  # type: ignore[type-arg]
    """Questions about names the corpus mentions, whose passage it lacks and whose answer no passage
    naming them holds (so they cannot be answered from the index by another route)."""
    by_name: dict[str, list[str]] = {}
    for text in passages.values():
        for name in names(text):
            by_name.setdefault(name, []).append(text)
    order = list(range(len(rows)))
    rng.shuffle(order)
    chosen = []
    for i in order:
        row = rows[i]
        if passage_id(unglue(row["knowledge"])) in passages or not _gradable(row):
            continue
        related = [text for name in names(row["question"]) for text in by_name.get(name, [])]
        if related and not any(mentions(text, row["right_answer"]) for text in related):
            chosen.append({"id": f"hu{i:05d}", "question": row["question"], "answer": "", "must": [],
                           "sources": [], "unanswerable": True})
        if len(chosen) == n:
            break
    return chosen
