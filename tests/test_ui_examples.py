"""The background writer of the chat's example questions: one run at a time, nothing a library change asks
for is lost, and a failing model stops the run without stopping the next one.

The engine here is scripted (an article per call, from a list the test grows while a run is under way):
what is tested is the writer's scheduling, which a real model makes too slow and too uneven to steer.
tests/test_suggestions.py has the bundled model write real questions.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

from rag import BackendError
from rag.service import AnswerSlots
from rag.suggestions import SuggestionRun
from ui.examples import ExampleWriter

WAIT = 10.0


class ScriptedEngine:
    """``write_suggestions`` as the engine's contract has it: one article tried a call, none when all are."""

    def __init__(self, articles: list[str], examples: int = 4) -> None:
        self.settings = SimpleNamespace(ui_examples=examples)
        self.todo = list(articles)
        self.tried: list[str] = []
        self.gate = threading.Event()  # a call waits here until the test lets it through
        self.calls = threading.Semaphore(0)  # released as each call starts
        self.running = 0
        self.most_at_once = 0
        self.fail_with: Exception | None = None
        self._lock = threading.Lock()

    def write_suggestions(self, limit: int = 4, tries: int | None = None) -> SuggestionRun:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.calls.release()
        try:
            assert self.gate.wait(WAIT)
            if self.fail_with is not None:
                raise self.fail_with
            if not self.todo:
                return SuggestionRun()
            article = self.todo.pop(0)
            self.tried.append(article)
            return SuggestionRun(tried=[article], kept={article: f"Who wrote {article}?"})
        finally:
            with self._lock:
                self.running -= 1


def test_a_library_change_during_a_run_is_written_by_that_run_and_runs_never_overlap() -> None:
    engine = ScriptedEngine(["a", "b"])
    writer = ExampleWriter(engine, AnswerSlots(1))  # type: ignore[arg-type]
    first = writer.refresh()
    assert first is not None and engine.calls.acquire(timeout=WAIT)  # the run is writing "a"
    engine.todo.append("c")  # an upload while it writes
    assert writer.refresh() is None  # no second run: the one under way will see "c"
    engine.gate.set()
    first.join(WAIT)
    assert not first.is_alive()
    assert engine.tried == ["a", "b", "c"] and engine.most_at_once == 1


def test_a_failing_model_stops_the_run_and_the_next_refresh_tries_again() -> None:
    engine = ScriptedEngine(["a"])
    engine.fail_with = BackendError("the model server at http://127.0.0.1:9/v1 did not answer")
    engine.gate.set()
    writer = ExampleWriter(engine, AnswerSlots(1))  # type: ignore[arg-type]
    run = writer.refresh()
    assert run is not None
    run.join(WAIT)
    assert not run.is_alive() and engine.tried == []  # stopped at the first failure, nothing stored
    engine.fail_with = None
    again = writer.refresh()
    assert again is not None
    again.join(WAIT)
    assert engine.tried == ["a"]


def test_the_writer_waits_for_the_answer_slot_a_visitor_holds() -> None:
    engine = ScriptedEngine(["a"])
    engine.gate.set()
    slots = AnswerSlots(1)
    writer = ExampleWriter(engine, slots)  # type: ignore[arg-type]
    with slots.turn():  # a visitor's answer is being written
        run = writer.refresh()
        assert run is not None
        assert not engine.calls.acquire(timeout=0.5)  # no model call while the visitor holds the slot
    run.join(WAIT)
    assert engine.tried == ["a"]


def test_examples_turned_off_cost_no_model_call() -> None:
    engine = ScriptedEngine(["a"], examples=0)  # RAG_UI_EXAMPLES=0
    engine.gate.set()
    assert ExampleWriter(engine, AnswerSlots(1)).refresh() is None  # type: ignore[arg-type]
    assert not engine.calls.acquire(timeout=0.2) and engine.tried == []
