"""Answering: retrieve, choose the excerpts, generate, check the citations, or refuse.

``CitedQueryEngine`` is a llama-index ``CustomQueryEngine`` (so it plugs into llama-index tooling)
whose ``stream``/``answer`` return this project's typed ``Answer`` with validated citations.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.schema import NodeWithScore, TextNode

from rag import prompts
from rag.citations import cite, marker_grammar
from rag.context import SentenceScorer, Source, build_sources
from rag.errors import RagError
from rag.extractive import extract_answer
from rag.generation import ChatClient, ContextOverflow, Usage
from rag.text import coverage, names
from rag.types import Answer, Citation, Hit

Retrieve = Callable[[str], list[Hit]]
ArticleTexts = Callable[[Sequence[str]], Mapping[str, str]]
REFUSAL_TEXT = "I could not find the answer to that in the indexed articles."
# What small models write instead of the exact NOT FOUND sentinel.
_REFUSAL = re.compile(r"\bnot\s+found\b|\b(?:sources?|articles?|context)\s+(?:do(?:es)?\s+not|don't|doesn't)\s+"
                      r"(?:contain|mention|say|state|provide|include)|\bno (?:information|mention)\b", re.I)
MIN_QUESTION_COVERAGE = 0.5
MIN_RELEVANCE = 0.30  # best sentence score below which retrieval found nothing on topic (see extractive)


def looks_like_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text[:200]))


class CitedQueryEngine(CustomQueryEngine):
    """Question -> ``Answer`` whose every ``[n]`` points at a passage that supports its sentence."""

    retrieve_hits: Retrieve
    scorer: SentenceScorer
    article_texts: ArticleTexts | None = None  # doc_id -> stored text, to check names against whole articles
    chat: ChatClient | None = None  # None = extractive
    max_tokens: int = 200
    temperature: float = 0.0
    context_chars: int = 1400
    relevance_margin: float = 0.0  # leave out excerpts this far below the best (0: keep all)
    context_tokens: int | None = None  # the model's window when known (local): trim before sending

    # --- llama-index interface -------------------------------------------------------------------
    def custom_query(self, query_str: str) -> Response:
        answer = self.answer(query_str)
        nodes = [NodeWithScore(node=TextNode(text=c.quote, metadata={"title": c.title, "source": c.source}))
                 for c in answer.citations]
        return Response(answer.text, source_nodes=nodes, metadata={"answer": answer})

    # --- this project's interface -------------------------------------------------------------------
    def answer(self, question: str) -> Answer:
        result: Answer | None = None
        for item in self.stream(question):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result

    def stream(self, question: str) -> Iterator[str | Answer]:
        """Text deltas as they are generated, then the final ``Answer`` (its text is the checked one)."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        hits = self.retrieve_hits(question)
        timings["retrieve"] = time.perf_counter() - started
        sources = build_sources(question, hits, self.scorer, self.context_chars, margin=self.relevance_margin)
        timings["context"] = time.perf_counter() - started - timings["retrieve"]
        if not sources or max(s.relevance for s in sources) < MIN_RELEVANCE:
            yield self._finish(question, "", sources, hits, timings, started, Usage())
            return
        if self.chat is None:
            text = extract_answer(question, sources, self.scorer)
            timings["first_token"] = time.perf_counter() - started
            yield self._finish(question, text, sources, hits, timings, started, Usage())
            return
        usage = Usage()
        parts: list[str] = []
        try:
            for delta in self._generate(question, sources, usage):
                parts.append(delta)
                yield delta
        except RagError as exc:
            answer = self._finish(question, "", sources, hits, timings, started, usage)
            answer.refused, answer.error = False, str(exc)
            yield answer
            return
        if usage.first_token_seconds is not None:
            timings["first_token"] = timings["retrieve"] + usage.first_token_seconds
        yield self._finish(question, "".join(parts), sources, hits, timings, started, usage)

    def _generate(self, question: str, sources: list[Source], usage: Usage) -> Iterator[str]:
        """Stream from the model; if the prompt overflows its context, drop the weakest source and retry.

        Where the server takes a grammar (the local model), a marker can only name a source it was given."""
        sources = self._fit_window(question, sources)
        while True:
            messages = [{"role": "system", "content": prompts.ANSWER_SYSTEM},
                        {"role": "user", "content": render_user_prompt(question, sources)}]
            try:
                yield from self.chat.stream(messages, self.max_tokens, self.temperature, usage,
                                            stop=prompts.ANSWER_STOP, grammar=marker_grammar(len(sources)))
                return
            except ContextOverflow:
                if len(sources) <= 1 or usage.first_token_seconds is not None:
                    raise
                sources = sources[:-1]

    def _fit_window(self, question: str, sources: list[Source]) -> list[Source]:
        """Keep the best sources whose prompt leaves room for the answer in a known context window."""
        if self.context_tokens is None:
            return sources
        budget = self.context_tokens - self.max_tokens
        while len(sources) > 1 and estimate_tokens(prompts.ANSWER_SYSTEM + render_user_prompt(question, sources)) > budget:
            sources = sources[:-1]
        return sources

    def _finish(self, question: str, raw: str, sources: list[Source], hits: list[Hit],
                timings: dict[str, float], started: float, usage: Usage) -> Answer:
        timings["total"] = time.perf_counter() - started
        backend = self.chat.backend if self.chat else "extractive"
        model = self.chat.model if self.chat else "none"
        common: dict[str, Any] = {"hits": hits, "backend": backend, "model": model, "timings": timings,
                                  "prompt_tokens": usage.prompt_tokens}
        if not raw.strip() or looks_like_refusal(raw):
            return Answer(text=REFUSAL_TEXT, refused=True, **common)
        articles = self.article_texts([s.hit.doc_id for s in sources]) if self.article_texts else {}
        checked = cite(raw, sources, question, articles=articles)
        common.update(invalid_markers=checked.invalid_markers, invented_markers=checked.invented_markers)
        if not checked.citations:  # nothing the model said is backed by a source: do not pass it on
            return Answer(text=REFUSAL_TEXT, refused=True, **common)
        if not on_topic(question, checked.citations, sources, articles):
            return Answer(text=REFUSAL_TEXT, refused=True, **common)
        return Answer(text=checked.text, refused=False, citations=checked.citations, **common)


def on_topic(question: str, citations: Sequence[Citation], sources: Sequence[Source],
             articles: Mapping[str, str] | None = None) -> bool:
    """Every name in the question occurs in the retrieved articles, and the cited ones hold at least
    half of them.

    A small model asked what Biden said, or about the EU's aid, happily reports what Zelensky said or
    the US figure, with a correct citation; the articles never mention Biden or the EU, which is what
    this catches. Whole articles are read when known (``articles``: doc_id -> text), else the passages.
    """
    def text_of(source: Source) -> str:
        return (articles or {}).get(source.hit.doc_id) or source.hit.text

    wanted = names(question)
    if coverage(wanted, " ".join(text_of(s) for s in sources)) < 1.0:
        return False
    cited = {c.doc_id for c in citations}
    return coverage(wanted, " ".join(text_of(s) for s in sources if s.hit.doc_id in cited)) >= MIN_QUESTION_COVERAGE


def estimate_tokens(text: str) -> int:
    """~3 characters a token for English news with this model's tokenizer; errs on the long side."""
    return len(text) // 3 + 16


def render_user_prompt(question: str, sources: Sequence[Source]) -> str:
    blocks = "\n\n".join(
        prompts.SOURCE_BLOCK.format(n=s.n, header=prompts.source_header(s.hit.title, s.hit.publisher), text=s.text)
        for s in reversed(sources)
    )
    return prompts.ANSWER_USER.format(sources=blocks, question=question.strip())
