"""A question asked again is answered from memory, and only while nothing it depends on has changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rag import Answer, NewsRAG, Settings
from rag.answer_cache import AnswerCache, AnswerKey, served_from_cache
from rag.retrieval import SearchFilters
from rag.types import Citation
from tests.conftest import REPO, SEEDS, free_port

QUESTION = "In which building did Trump and Zelensky meet in Paris?"
FERRY = "When does the Port Elin winter ferry leave?"


@pytest.fixture()
def archive(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


def engine_on(archive: Path, tmp_path: Path, **settings: object) -> NewsRAG:
    engine = NewsRAG(Settings(data_dir=tmp_path / "data", **{"llm": "extractive", **settings}))
    engine.ingest([archive])
    return engine


def key(question: str, generation: str = "g1") -> AnswerKey:
    return AnswerKey(generation, "settings", "model", None, None, question)


def answer(text: str, error: str = "") -> Answer:
    citation = Citation(1, "doc", "a.txt", "Title", "A quote.", 0, 9)
    return Answer(text=text, refused=False, citations=[citation], timings={"total": 8.0}, error=error)


# --- the cache itself ---------------------------------------------------------------------------------
def test_the_least_recently_used_answer_makes_room() -> None:
    cache = AnswerCache(capacity=2)
    cache.put(key("a"), answer("A"))
    cache.put(key("b"), answer("B"))
    assert _taken(cache, "a") is not None  # "a" is now the most recently used
    cache.put(key("c"), answer("C"))
    assert _taken(cache, "b") is None
    assert [_taken(cache, q).text for q in ("a", "c")] == ["A", "C"]  # type: ignore[union-attr]


def test_a_failed_answer_is_not_kept_and_a_zero_capacity_keeps_nothing() -> None:
    cache = AnswerCache(capacity=8)
    cache.put(key("a"), answer("", error="The model server at http://127.0.0.1:9 did not answer."))
    assert _taken(cache, "a") is None
    off = AnswerCache(capacity=0)
    off.put(key("a"), answer("A"))
    assert _taken(off, "a") is None


def test_a_caller_changing_its_copy_does_not_change_what_the_next_caller_gets() -> None:
    cache = AnswerCache(capacity=2)
    original = answer("A")
    cache.put(key("a"), original)
    original.citations.clear()  # the engine's caller owns the answer it was given
    served = served_from_cache(_taken(cache, "a"), 0.001)  # type: ignore[arg-type]
    served.citations.clear()
    served.timings["total"] = 99.0
    again = served_from_cache(_taken(cache, "a"), 0.002)  # type: ignore[arg-type]
    assert len(again.citations) == 1 and again.cached and again.timings == {"first_token": 0.002, "total": 0.002}


def test_a_caller_of_a_question_being_computed_waits_for_that_answer() -> None:
    cache = AnswerCache(capacity=4)
    got: list[Answer | None] = []
    with cache.turn(key("a"), patience=30) as kept:
        assert kept is None  # this caller computes it
        waiter = threading.Thread(target=lambda: got.append(_taken(cache, "a")))
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive()  # the second caller waits instead of computing it again
        cache.put(key("a"), answer("A"))
    waiter.join(5)
    assert [a.text for a in got if a is not None] == ["A"]


def test_when_the_first_caller_gives_up_a_waiting_one_computes_it() -> None:
    cache = AnswerCache(capacity=4)
    got: list[Answer | None] = []
    with cache.turn(key("a"), patience=30):
        waiter = threading.Thread(target=lambda: got.append(_taken(cache, "a")))
        waiter.start()
        waiter.join(0.3)
    waiter.join(5)  # the first left without an answer (the visitor pressed Stop): no answer was kept
    assert got == [None] and not waiter.is_alive()


def test_with_no_capacity_nobody_waits() -> None:
    cache = AnswerCache(capacity=0)
    with cache.turn(key("a"), patience=30) as first, cache.turn(key("a"), patience=30) as second:
        assert first is None and second is None


def test_a_thread_holding_a_question_in_an_unfinished_stream_can_ask_it_again() -> None:
    """``s = engine.stream(q); next(s); engine.ask(q)`` in one thread: waiting for itself would never end."""
    cache = AnswerCache(capacity=4)
    got: list[Answer | None] = []

    def stream_then_ask_again() -> None:
        with cache.turn(key("a"), patience=3600), cache.turn(key("a"), patience=3600) as again:
            got.append(again)

    caller = threading.Thread(target=stream_then_ask_again, daemon=True)
    caller.start()
    caller.join(10)
    assert got == [None]  # computed at once, not after an hour's wait for itself


def test_a_caller_stops_waiting_after_its_patience_and_computes_it_itself() -> None:
    cache = AnswerCache(capacity=4)
    got: list[Answer | None] = []
    with cache.turn(key("a"), patience=30):  # a first caller that never finishes within the second's patience
        waiter = threading.Thread(target=lambda: got.append(_impatient(cache, "a")))
        waiter.start()
        waiter.join(10)
        assert got == [None] and not waiter.is_alive()


def _impatient(cache: AnswerCache, question: str) -> Answer | None:
    with cache.turn(key(question), patience=0.2) as kept:
        return kept


def _taken(cache: AnswerCache, question: str) -> Answer | None:
    with cache.turn(key(question), patience=30) as kept:
        return kept


# --- the engine --------------------------------------------------------------------------------------
def as_example(engine: NewsRAG, *questions: str) -> NewsRAG:
    """The questions stored as the empty chat's examples, as the model's writer stores them."""
    for n, question in enumerate(questions):
        engine.suggestions.put(f"article-{n}:{engine.answering_model}", question)
    return engine


def test_an_example_question_asked_again_is_served_from_memory_with_the_same_answer(archive: Path,
                                                                                   tmp_path: Path) -> None:
    engine = as_example(engine_on(archive, tmp_path), QUESTION)
    first, again = engine.ask(QUESTION), engine.ask(QUESTION)
    assert not first.cached and again.cached and again.to_dict()["cached"] is True
    assert first.citations and not first.refused
    assert (again.text, again.refused, again.citations, again.confidence, again.question) == \
        (first.text, first.refused, first.citations, first.confidence, first.question)
    assert list(engine.stream(QUESTION))[-1].cached  # streaming serves it too: the answer is the only item
    assert engine.chat([{"role": "user", "content": "Hello"}], QUESTION).cached  # clicked during a chat


def rag_ask_json(question: str, data_dir: Path) -> dict[str, object]:
    """``rag ask --json`` in a process of its own, as a restarted server or another process on the index."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAG_DATA_DIR": str(data_dir), "RAG_LLM": "extractive"}
    done = subprocess.run([sys.executable, "-m", "rag", "ask", "--json", question], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_example_s_answer_outlives_a_restart_until_the_index_changes(archive: Path, tmp_path: Path) -> None:
    """Without the file, the first click on each example after a restart waited for an answer the index
    had not changed since it was computed."""
    engine = as_example(engine_on(archive, tmp_path), QUESTION)
    computed = engine.ask(QUESTION)
    restarted = rag_ask_json(QUESTION, tmp_path / "data")
    assert restarted["cached"] is True and restarted["prompt_tokens"] == 0
    assert (restarted["answer"], restarted["citations"]) == (computed.text, computed.to_dict()["citations"])

    (archive / "ferry.txt").write_text("Harbour authority sets new ferry timetable\n\nThe Port Elin harbour "
                                       "authority said the winter ferry will leave at 7:40.\n", encoding="utf-8")
    engine.ingest([archive])  # a new generation: the kept answer may no longer be the one computed now
    assert rag_ask_json(QUESTION, tmp_path / "data")["cached"] is False
    assert rag_ask_json(QUESTION, tmp_path / "data")["cached"] is True  # kept again, for the new generation
    entries = json.loads(next((tmp_path / "data" / "suggestions").glob("*.answers.json")).read_text("utf-8"))
    assert [entry["generation"] for entry in entries.values()] == [engine.store.generation()]


def test_an_unreadable_answer_file_costs_an_answer_not_an_error(archive: Path, tmp_path: Path) -> None:
    engine = as_example(engine_on(archive, tmp_path), QUESTION)
    engine.ask(QUESTION)
    (kept,) = (tmp_path / "data" / "suggestions").glob("*.answers.json")
    kept.write_bytes(b"\x00{not json")
    fresh = NewsRAG(engine.settings)
    first = fresh.ask(QUESTION)
    assert not first.cached and not first.error and first.citations
    assert NewsRAG(engine.settings).ask(QUESTION).cached  # the file was written afresh


def test_a_visitor_s_own_question_is_never_kept(archive: Path, tmp_path: Path) -> None:
    """A kept answer comes in milliseconds and says cached: for a visitor's own question that would tell
    the next one, or a stranger guessing, that someone asked exactly that."""
    engine = as_example(engine_on(archive, tmp_path), FERRY)
    asked = [engine.ask(QUESTION) for _ in range(2)]
    assert [a.cached for a in asked] == [False, False]


def test_an_article_added_since_is_read_not_the_answer_kept_from_before(archive: Path, tmp_path: Path) -> None:
    engine = as_example(engine_on(archive, tmp_path), FERRY)
    before = engine.ask(FERRY)
    assert not any("ferry.txt" == c.source.rsplit("/", 1)[-1] for c in before.citations)
    (archive / "ferry.txt").write_text(
        "Harbour authority sets new ferry timetable\n\n"
        "The Port Elin harbour authority said the winter ferry will leave at 7:40 every morning from 2 December.\n",
        encoding="utf-8")
    engine.ingest([archive])
    after = engine.ask(FERRY)
    assert not after.cached and "7:40" in after.text and after.citations


def test_other_settings_or_filters_are_answered_afresh(archive: Path, tmp_path: Path) -> None:
    engine = as_example(engine_on(archive, tmp_path), QUESTION)
    engine.ask(QUESTION)
    assert not engine.ask(QUESTION, k=2).cached  # fewer passages read: maybe another answer
    engine.ask(QUESTION, filters=SearchFilters(sources=["001_c788a5a7159858c4.txt", "000_34d3f0eff26b4d81.txt"]))
    # the same sources in another order, as a tuple: the same selection, the same answer
    assert engine.ask(QUESTION, filters=SearchFilters(sources=("000_34d3f0eff26b4d81.txt",
                                                               "001_c788a5a7159858c4.txt"))).cached
    engine.configure(top_k=2)
    assert not engine.ask(QUESTION).cached  # the UI's per-visitor views differ by settings like this one
    assert engine.ask(QUESTION).cached
    engine.configure(temperature=0.7)
    assert not engine.ask(QUESTION).cached and not engine.ask(QUESTION).cached  # sampled: not a repeat


def test_with_the_cache_off_every_ask_is_computed(archive: Path, tmp_path: Path) -> None:
    engine = as_example(engine_on(archive, tmp_path, answer_cache=0), QUESTION)
    assert not engine.ask(QUESTION).cached and not engine.ask(QUESTION).cached


def test_a_failed_answer_is_tried_again_on_the_next_ask(archive: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: every answer fails
    engine = as_example(engine_on(archive, tmp_path, llm="openai", openai_base_url=url, request_timeout=5), QUESTION)
    first, again = engine.ask(QUESTION), engine.ask(QUESTION)
    assert first.error and again.error and not again.cached


@pytest.mark.slow
def test_visitors_clicking_the_same_example_at_once_get_one_answer_computed_once(archive: Path,
                                                                                tmp_path: Path) -> None:
    """The local model answers one question at a time: a second visitor clicking the example the first is
    being answered would wait for that answer and then compute the same one again."""
    engine = as_example(engine_on(archive, tmp_path, llm="local"), QUESTION)
    answers: dict[str, Answer] = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", engine.ask(QUESTION)))
    first.start()
    time.sleep(0.5)  # the first ask is under way (it claims the question within milliseconds)
    answers["second"] = engine.ask(QUESTION)
    first.join()
    assert not answers["first"].cached and answers["second"].cached
    assert answers["second"].text == answers["first"].text and "Elysee" in answers["first"].text
