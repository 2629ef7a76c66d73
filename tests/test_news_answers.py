"""End to end with the real local model on real news: articles of the archive news_dev is written over
(HaluEval CNN/DailyMail, lines 0-1999), answered with a citation of the right article, a near-miss
unanswerable refused, and a trap whose answer names someone the article mentions in another role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import Answer, NewsRAG, Settings
from eval.bench.news import archive_file, write_archive
from eval.halueval import load_items

# Articles of the archive: the ones the questions are about, and others around them as distractors.
ARTICLES = range(80, 110)
ANSWERED = [  # (question, a fact the answer must state, the article it must cite)
    ("What record penalty did the California Public Utilities Commission order PG&E to pay over its gas "
     "transmission system and the San Bruno explosion?", "1.6 billion", 87),
]
# Not here: the Dr. Seuss question ("To how many copies did Random House raise the first printing...?")
# is read right, but its second look sits near the threshold: one of the right answers the thresholds
# refuse, which the README reports (news_dev).
REFUSED = [
    "Whom did Chet Olson defeat when he was reelected mayor of Rochelle, Illinois, the day before the tornado?",
    # A known miss, a kind behind several wrong answers on news_dev's report half (8 of 34 at the defaults,
    # chosen on 2026-12-02): the article names a man who helped at the restaurant, and the model names
    # him as its owner, surely (short answer 0.97, second look 0.63: both above their thresholds; the
    # 0.8 second look refused it before). Strict: when it is refused again, this fails and says so.
    pytest.param("Who owns the Grubsteakers restaurant that the tornado destroyed north of Rochelle, Illinois?",
                 marks=pytest.mark.xfail(strict=True, reason="a helper named in the article is given as the owner")),
]


@pytest.fixture(scope="module")
def news_engine(tmp_path_factory: pytest.TempPathFactory) -> NewsRAG:
    work = tmp_path_factory.mktemp("news")
    rows = load_items("summarization", 400)
    folder = work / "articles"
    folder.mkdir()
    for index in {*ARTICLES, *(a for _, _, a in ANSWERED)}:
        record = {"id": f"cnn{index:05d}", "text": rows[index]["document"], "source": "CNN/DailyMail"}
        (folder / archive_file(index)).write_text(json.dumps(record) + "\n", encoding="utf-8")
    engine = NewsRAG(Settings(data_dir=work / "index", llm="local"))
    engine.ingest([folder])
    return engine


def test_the_archive_files_are_named_as_the_dataset_cites_them(tmp_path: Path) -> None:
    folder = write_archive(tmp_path, 3)
    assert sorted(p.name for p in folder.iterdir()) == ["cnn_00000.jsonl", "cnn_00001.jsonl", "cnn_00002.jsonl"]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "fact", "article"), ANSWERED)
def test_news_question_answered_with_the_right_article_cited(news_engine: NewsRAG, question: str, fact: str,
                                                             article: int) -> None:
    answer = news_engine.ask(question)
    assert not answer.refused, answer
    assert fact in answer.text, answer.text
    assert archive_file(article) in {c.source for c in answer.citations}
    # Given, so its one probability passed the threshold, and it says how sure it was:
    assert answer.confidence is not None and answer.verification is not None and answer.short_confidence is not None
    assert answer.answer_probability is not None
    assert answer.answer_probability >= news_engine.settings.min_answer_probability  # type: ignore[operator]
    # The short answer's likelihood was read on the passage it rests on, which makes it likely (a mean log
    # probability per token above -1; right answers on news_dev: -0.06 at the median, -0.75 at the 10th percentile):
    assert answer.evidence_likelihood is not None and -1.0 < answer.evidence_likelihood <= 0.0


@pytest.mark.slow
@pytest.mark.parametrize("question", REFUSED)
def test_news_question_the_articles_do_not_answer_is_refused(news_engine: NewsRAG, question: str) -> None:
    answer: Answer = news_engine.ask(question)
    assert answer.refused, answer.text
    assert not answer.citations and answer.hits  # the closest articles are still offered
