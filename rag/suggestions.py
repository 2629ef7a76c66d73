"""Example questions for an empty chat that the engine answers, one per article.

A title makes a poor example: "What do the articles say about <title>?" asks for a summary, which a
reader that must cite the sentence stating its answer refuses (all four on the seeds at the default).
So the model writes a short factual question from an article's opening sentences, and the question is
kept only if the engine then answers it citing that article: a newcomer's first click gets an answer,
on any archive and in its language. Each article is tried once per answering model; the outcome (a
question, or none) is stored beside the index under the article's content hash, so a restart, or an
article indexed again unchanged, costs no model call.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.generation import ChatClient
from rag.json_file import read_object, update_object
from rag.prompts import suggestion_messages
from rag.text import split_sentences
from rag.types import Answer, DocumentInfo

LEAD_CHARS = 900  # the opening sentences the question is written from: a news lead holds its main facts
MAX_QUESTION_CHARS = 200
QUESTION_TOKENS = 60
QUESTION_MARKS = ("?", "？", "؟")
GREEK_QUESTION_MARK = ";"  # Greek writes its question mark as the Latin semicolon
_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
_DECORATION = "\"'“”«»*_`#-•> "  # quotes, Markdown emphasis, list marks the model puts around its one line
# A label before the question: "1.", "Question:", "Q:", "Question 1 :", "问题：", "प्रश्न:". One word (with a
# number), so "Who said: ..." keeps its words; and not when the rest starts in lower case, so a headline's
# topic ("Brexit: who led the talks?") stays.
_LABEL = re.compile(r"^(?:\d+[.)]|\S{1,15}(?: \d+)? ?[:：])\s*")


@dataclass
class SuggestionRun:
    """What one ``write`` did: articles tried now, and the questions kept of them."""

    tried: list[str] = field(default_factory=list)  # doc_ids
    kept: dict[str, str] = field(default_factory=dict)  # doc_id -> question
    error: str = ""  # the answering backend failed: nothing was stored for that article, the next run tries it


def lead_of(text: str, chars: int = LEAD_CHARS) -> str:
    """The article's opening whole sentences, at most ``chars`` long: one sentence cut at a space when
    even the first is longer (a text with no sentence ends, as Thai writes, must not fill the prompt)."""
    lead = ""
    for span in split_sentences(text):
        if span.end > chars:
            break
        lead = text[: span.end]
    if lead.strip():
        return lead.strip()
    head = text[:chars]
    return (head.rsplit(None, 1)[0] if len(text) > chars and " " in head.strip() else head).strip()


def question_from_reply(reply: str) -> str | None:
    """The one question of the model's reply, or None when it wrote none (a statement, a list, nothing)."""
    line = next((line for line in reply.strip().splitlines() if line.strip()), "").strip(_DECORATION)
    label = _LABEL.match(line)
    if label and not line[label.end():label.end() + 1].islower():
        line = line[label.end():].strip(_DECORATION)
    marks = (*QUESTION_MARKS, GREEK_QUESTION_MARK) if _GREEK.search(line) else QUESTION_MARKS
    if not line.endswith(marks) or not 8 <= len(line) <= MAX_QUESTION_CHARS:
        return None
    return line


def answers_from(answer: Answer, doc_id: str) -> bool:
    """Whether the engine answered (no refusal) and cited this article for it."""
    return not answer.refused and any(c.doc_id == doc_id for c in answer.citations)


def newest_first(docs: Sequence[DocumentInfo], now: float | None = None) -> list[DocumentInfo]:
    """Articles by publication date (the indexing date when unknown), newest first: the examples a
    reader of news expects first. A date after ``now`` counts as its indexing date: an upload dated
    2099 went to the front of the examples every visitor is shown."""
    latest = time.time() if now is None else now
    return sorted(docs, key=lambda d: (-(d.published if d.published and d.published <= latest else d.ingested_at),
                                       d.title))


class SuggestionStore:
    """``{key: question or null}`` in one JSON file (``rag.json_file``: a killed process leaves the old
    file or the new one)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, str | None]:
        """None written yet, or unreadable: ``{}``, and the examples are written again."""
        return {str(k): (v if isinstance(v, str) else None) for k, v in read_object(self.path).items()}

    def put(self, key: str, question: str | None) -> None:
        update_object(self.path, lambda data: {**data, key: question})


def suggestion_key(doc: DocumentInfo, model: str) -> str:
    """An outcome holds for this article's text and the model that wrote and answered the question."""
    return f"{doc.sha256}:{model}"


def stored_questions(docs: Sequence[DocumentInfo], stored: dict[str, str | None], model: str,
                     limit: int) -> list[str]:
    """The kept questions of the newest articles that have one, at most ``limit``, each once."""
    questions = (stored.get(suggestion_key(doc, model)) for doc in newest_first(docs))
    return list(dict.fromkeys(q for q in questions if q))[:limit]


def write_question(chat: ChatClient, article: str) -> str | None:
    """The model's question about the article's lead, or None when its reply holds none."""
    lead = lead_of(article)
    if not lead:
        return None
    messages = suggestion_messages(lead)
    chat.begin(messages)
    return question_from_reply("".join(chat.stream(messages, QUESTION_TOKENS, 0.0)))


def write_suggestions(docs: Sequence[DocumentInfo], stored: dict[str, str | None], model: str, limit: int,
                      article_text: Callable[[str], str], write: Callable[[str], str | None],
                      answer: Callable[[str], Answer], put: Callable[[str, str | None], None],
                      tries: int | None = None) -> SuggestionRun:
    """Walk the articles newest first until ``limit`` of them have a question, trying each with no stored
    outcome; at most ``tries`` (default ``limit``) a run: each is a question written and answered, ~15 s
    on a CPU, so a caller sharing the model can take one at a time."""
    run = SuggestionRun()
    have = 0
    for doc in newest_first(docs):
        if have >= limit or len(run.tried) >= (limit if tries is None else tries):
            break
        key = suggestion_key(doc, model)
        if key in stored:
            have += stored[key] is not None
            continue
        run.tried.append(doc.doc_id)
        question = write(article_text(doc.doc_id))
        answered = answer(question) if question else None
        if answered is not None and answered.error:
            run.error = answered.error
            break
        kept = question if answered is not None and answers_from(answered, doc.doc_id) else None
        put(key, kept)
        if kept:
            run.kept[doc.doc_id] = kept
            have += 1
    return run
