"""The chat's example questions: written from an article, kept only if the engine answers them from it.

The walk, the store and the reply parsing are pure and tested with hand-made articles and answers; the
last test has the bundled model write and answer questions about the seeds, as a newcomer's first
start does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Answer, Citation, DocumentInfo, NewsRAG, Settings
from rag.suggestions import (SuggestionStore, lead_of, newest_first, question_from_reply, stored_questions,
                             suggestion_key, write_suggestions)
from tests.conftest import SEEDS

MODEL = "local:bundled"


def doc(doc_id: str, published: int, sha: str | None = None) -> DocumentInfo:
    return DocumentInfo(doc_id=doc_id, title=f"Article {doc_id}", source=f"/{doc_id}.md", source_name=f"{doc_id}.md",
                        chunks=1, sha256=sha or f"sha-{doc_id}", ingested_at=1_700_000_000, published=published)


def cited(doc_id: str) -> Answer:
    return Answer(text="It opened in 1998 [1].", refused=False,
                  citations=[Citation(n=1, doc_id=doc_id, source="", title="", quote="opened in 1998", start=0, end=14)])


REFUSED = Answer(text="I could not find the answer to that in the indexed articles.", refused=True)


@pytest.mark.parametrize(("reply", "question"), [
    ("Who opened the bridge in Lyon?", "Who opened the bridge in Lyon?"),
    ("Question: When did the strike end?\nAnswer: Monday", "When did the strike end?"),
    ('1. "How many people were rescued from the ferry?"', "How many people were rescued from the ferry?"),
    ("¿Quién inauguró el puente de Lyon?", "¿Quién inauguró el puente de Lyon?"),
    ("谁在里昂开通了这座桥？", "谁在里昂开通了这座桥？"),
    ("问题：谁在里昂开通了这座桥？", "谁在里昂开通了这座桥？"),
    ("Who said: 'the bridge is open'?", "Who said: 'the bridge is open'?"),
    ("Πότε έληξε η απεργία στον Πειραιά;", "Πότε έληξε η απεργία στον Πειραιά;"),
    ("**Question:** When did the strike end?", "When did the strike end?"),
    ("Question 1 : Quand la grève a-t-elle pris fin ?", "Quand la grève a-t-elle pris fin ?"),
    ("प्रश्न: पटना मेट्रो का उद्घाटन किसने किया?", "पटना मेट्रो का उद्घाटन किसने किया?"),
    ("- **When did the strike end?**", "When did the strike end?"),
    ("Brexit: who led the talks in Brussels?", "Brexit: who led the talks in Brussels?"),  # a topic, not a label
    ("When did the strike end;", None),  # a semicolon asks only in Greek
    ("The bridge was opened by the mayor.", None),  # a statement is no question
    ("", None),
    ("Why?", None),  # too short to stand alone
])
def test_the_one_question_of_the_model_s_reply_is_kept_without_labels_or_quotes(reply: str, question: str | None) -> None:
    assert question_from_reply(reply) == question


def test_the_lead_is_the_article_s_opening_whole_sentences() -> None:
    article = "The port reopened on Monday. " * 10 + "Dockers had been on strike for three weeks."
    lead = lead_of(article, chars=100)
    assert lead.endswith("Monday.") and len(lead) <= 100
    # One sentence longer than the lead, or a text with no sentence ends (Thai): cut, never empty
    cut = lead_of("One very long sentence " * 20, chars=50)
    assert cut.startswith("One very long sentence") and len(cut) <= 50 and cut.endswith("sentence")  # at a space
    assert len(lead_of("ก" * 6000, chars=900)) == 900


def test_only_questions_the_engine_answers_from_their_own_article_are_kept(tmp_path: Path) -> None:
    docs = [doc("old", 100), doc("mid", 200), doc("new", 300)]
    store = SuggestionStore(tmp_path / "suggestions.json")
    answers = {"When did the new port open?": cited("new"),   # answered from its article: kept
               "When did the mid port open?": cited("old")}   # answered from another article: not kept
    written: list[str] = []

    def write(article: str) -> str | None:
        written.append(article)
        return {"text new": "When did the new port open?", "text mid": "When did the mid port open?"}.get(article)

    run = write_suggestions(docs, store.read(), MODEL, 4, article_text=lambda d: f"text {d}", write=write,
                            answer=lambda q: answers.get(q, REFUSED), put=store.put)
    assert run.tried == ["new", "mid", "old"]  # newest first
    assert run.kept == {"new": "When did the new port open?"}
    assert stored_questions(docs, store.read(), MODEL, 4) == ["When did the new port open?"]

    # Every outcome is stored, a question or none: the next run (a restart) writes nothing.
    again = write_suggestions(docs, store.read(), MODEL, 4, article_text=lambda d: f"text {d}", write=write,
                              answer=lambda q: answers.get(q, REFUSED), put=store.put)
    assert again.tried == [] and len(written) == 3
    # Another model has not tried them: its outcomes are its own.
    assert stored_questions(docs, store.read(), "openai:api.openai.com:gpt-4o-mini", 4) == []


def test_a_run_stops_once_the_newest_articles_have_questions_and_after_its_tries(tmp_path: Path) -> None:
    docs = [doc(str(i), 1000 + i) for i in range(10)]
    store = SuggestionStore(tmp_path / "suggestions.json")
    args = dict(article_text=lambda d: d, write=lambda article: f"What happened in article {article}?",
                answer=lambda q: cited(q.split()[-1].rstrip("?")), put=store.put)
    one = write_suggestions(docs, store.read(), MODEL, 2, tries=1, **args)
    assert one.tried == ["9"]
    rest = write_suggestions(docs, store.read(), MODEL, 2, **args)
    assert rest.tried == ["8"]  # two of the newest have one: the older articles are not tried
    assert stored_questions(docs, store.read(), MODEL, 2) == ["What happened in article 9?", "What happened in article 8?"]
    # A new article comes first, and is tried though two questions exist.
    newer = write_suggestions([*docs, doc("10", 1010)], store.read(), MODEL, 2, **args)
    assert newer.tried == ["10"]


def test_an_article_dated_in_the_future_does_not_jump_ahead_of_the_news() -> None:
    """An upload dated 2099 went to the front of the examples every visitor is shown."""
    today = 1_750_000_000
    docs = [doc("forged", 4_070_000_000), doc("recent", 1_740_000_000), doc("old", 1_600_000_000)]
    assert [d.doc_id for d in newest_first(docs, now=today)] == ["recent", "forged", "old"]  # as indexed (1.7e9)


def test_a_failing_model_stores_nothing_so_the_next_run_tries_again(tmp_path: Path) -> None:
    store = SuggestionStore(tmp_path / "suggestions.json")
    down = Answer(text="", refused=True, error="the model server at http://127.0.0.1:9/v1 is unreachable")
    run = write_suggestions([doc("a", 1)], store.read(), MODEL, 4, article_text=lambda d: d,
                            write=lambda article: "Who opened the bridge?", answer=lambda q: down, put=store.put)
    assert run.error and store.read() == {}


def test_an_unreadable_store_counts_as_empty_and_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "suggestions" / "news.json"
    path.parent.mkdir()
    path.write_text("{half a fil", encoding="utf-8")
    store = SuggestionStore(path)
    assert store.read() == {}
    key = suggestion_key(doc("a", 1), MODEL)
    store.put(key, "Who opened the bridge?")
    assert SuggestionStore(path).read() == {key: "Who opened the bridge?"}
    assert sorted(p.name for p in path.parent.iterdir()) == [".news.json.lock", "news.json"]  # no temporary file left


@pytest.mark.slow
def test_the_bundled_model_s_example_questions_about_the_seeds_are_answered_from_them(tmp_path: Path) -> None:
    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="local"))
    engine.ingest([SEEDS])
    run = engine.write_suggestions(limit=2)
    assert run.kept, f"no question of {len(run.tried)} tried was answered"
    titles = {d.doc_id: d.title for d in engine.documents()}
    for doc_id, question in run.kept.items():
        answer = engine.ask(question, engine.visitor_filters([]))  # as a visitor clicking it asks: no one's uploads
        assert not answer.refused and doc_id in {c.doc_id for c in answer.citations}, (titles[doc_id], question)
        assert answer.cached  # answered when it was written: the first visitor to click it waits for nothing
    assert engine.suggested_questions(2) == list(run.kept.values())[:2]
