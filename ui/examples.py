"""The chat's example questions, written in the background so no page load waits for the model.

``NewsRAG.write_suggestions`` writes a question from an article and keeps it only if the engine answers
it, a model call and an answer (~15 s on a CPU). Here that runs after start-up and after every library
change, one article per answer slot, so a visitor's question waits for at most one of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from rag import DocumentInfo, NewsRAG, RagError
from rag.service import AnswerSlots

log = logging.getLogger(__name__)


def examples_of(engine: NewsRAG, docs: Sequence[DocumentInfo] | None = None) -> list[dict[str, str]]:
    """The questions stored for the newest articles, as the chat's empty-state buttons (no model call);
    ``docs``: the library as just listed, so a page load lists it once."""
    limit = engine.settings.ui_examples
    return [{"text": question} for question in engine.suggested_questions(limit, docs)] if limit else []


class ExampleWriter:
    """One background run at a time; a library change during a run makes it look again when done."""

    def __init__(self, engine: NewsRAG, slots: AnswerSlots) -> None:
        self.engine = engine
        self.slots = slots
        self._running = threading.Lock()
        self._again = threading.Event()

    def refresh(self) -> threading.Thread | None:
        """Write what is missing, in a daemon thread; None when a run already under way will see it, or
        when the operator turned the examples off (``RAG_UI_EXAMPLES=0``)."""
        if not self.engine.settings.ui_examples:
            return None
        self._again.set()
        if not self._running.acquire(blocking=False):
            return None
        thread = threading.Thread(target=self._run, daemon=True, name="example-questions")
        thread.start()
        return thread

    def _run(self) -> None:
        try:
            while self._again.is_set():
                self._again.clear()
                while self._write_one():
                    self._again.clear()  # this pass sees the library as it is now
        finally:
            self._running.release()
        if self._again.is_set():  # changed between the last pass and the release
            self.refresh()

    def _write_one(self) -> bool:
        """Try one article in an answer slot; False when none was left to try (or the model failed)."""
        try:
            with self.slots.turn():
                run = self.engine.write_suggestions(self.engine.settings.ui_examples, tries=1)
        except RagError as exc:  # no model, a server down: the chat shows no examples, and says nothing
            log.warning("no example questions written: %s", exc)
            return False
        if run.error:
            log.warning("no example questions written: %s", run.error)
        return bool(run.tried) and not run.error
