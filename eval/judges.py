"""Judges: is a claim supported by some evidence? One interface, three implementations.

- ``ModelJudge``: a chat model behind ``rag.ChatClient`` (the bundled local model, OpenAI, or any
  OpenAI-compatible server). It reads P("Yes") from the first token's ``top_logprobs`` when the server
  returns them, else the Yes/No text. Malformed output gets one retry with a reminder, then the claim is
  *unjudged* (``supported is None``): a judge failure must never crash a run nor pass as "supported".
- ``LexicalJudge``: the model-free baseline, ``rag.support_score`` against a threshold.

A model judge can also ``screen`` a long text (a summary) before judging its claims: when too few of
its content words occur in the evidence, it is unsupported without a model call (see ``CLAIM``).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rag import ChatClient, RagError, Settings, build_chat_client, support_score, word_coverage

from eval.prompts import CLAIM, RETRY_MESSAGE, JudgePrompt, Message

JUDGES = ("local", "openai", "lexical")


@dataclass(frozen=True)
class Verdict:
    """``supported`` is None when the judge could not decide (unjudged); ``p_supported`` ranks claims (AUC)."""

    supported: bool | None
    p_supported: float | None
    raw: str = ""  # what the model replied (last attempt)
    error: str = ""  # why it is unjudged
    seconds: float = 0.0
    calls: int = 0  # model calls spent (a retry counts)

    @property
    def judged(self) -> bool:
        return self.supported is not None


class Judge(Protocol):
    name: str
    threshold: float  # the p_supported from which a claim counts as supported
    grades_references: bool  # can it tell whether an answer agrees with a reference answer?

    def judge(self, claim: str, evidence: str) -> Verdict:
        """Is ``claim`` supported by ``evidence``?"""
        ...

    def with_prompt(self, prompt: JudgePrompt) -> Judge:
        """The same judge asking another question (e.g. answer-vs-reference instead of claim-vs-passage)."""
        ...

    def screen(self, text: str, evidence: str) -> Verdict | None:
        """A verdict on a whole text decided before its claims are judged, or None to judge them."""
        ...


class LexicalJudge:
    """Supported when enough of the claim's content words (and all its numbers) occur in the evidence."""

    name = "lexical"
    grades_references = False  # word overlap with a one-line reference says little about agreement

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def judge(self, claim: str, evidence: str) -> Verdict:
        started = time.perf_counter()
        score = support_score(claim, evidence)
        return Verdict(score >= self.threshold, score, seconds=time.perf_counter() - started)

    def with_prompt(self, prompt: JudgePrompt) -> LexicalJudge:
        return self  # it asks no question

    def screen(self, text: str, evidence: str) -> Verdict | None:
        return None  # its claim verdicts are lexical already


class ModelJudge:
    """A chat model answering Yes/No; ``p_supported`` = P(Yes) / (P(Yes) + P(No)) of its first word."""

    grades_references = True

    draft_tokens = 32  # the model's own answer, for two-turn prompts: a few words

    def __init__(self, client: ChatClient, prompt: JudgePrompt = CLAIM, threshold: float | None = None,
                 max_evidence_chars: int = 12_000, use_logprobs: bool = True) -> None:
        self.client = client
        self.prompt = prompt
        self.threshold_override = threshold  # None: the prompt's calibrated threshold
        self.threshold = prompt.threshold if threshold is None else threshold
        # A 4k-token context holds the prompt, the examples and ~12k characters of English evidence.
        self.max_evidence_chars = max_evidence_chars
        self.use_logprobs = use_logprobs
        self.name = client.backend

    def with_prompt(self, prompt: JudgePrompt) -> ModelJudge:
        return ModelJudge(self.client, prompt, self.threshold_override, self.max_evidence_chars, self.use_logprobs)

    def screen(self, text: str, evidence: str) -> Verdict | None:
        """No, without asking the model, when the evidence holds under ``min_coverage`` of the text's words.

        ``p_supported`` maps the coverage onto [0, threshold) so rankings (AUC) stay consistent with it.
        """
        floor = self.prompt.min_coverage
        share = word_coverage(text, evidence)
        if floor <= 0 or share >= floor:
            return None
        return Verdict(False, self.threshold * share / floor, raw=f"word coverage {share:.2f} < {floor}")

    def judge(self, claim: str, evidence: str) -> Verdict:
        started = time.perf_counter()
        counted = _CountedClient(self.client)
        raw, error = "", ""
        messages: list[Message] | None = None
        for _ in range(2):  # one retry
            try:
                messages = messages or self._verdict_messages(counted, claim, evidence[:self.max_evidence_chars])
                p_yes, raw = read_verdict(counted.complete(messages, max_tokens=3, **self._logprob_options()))
            except RagError as exc:  # server error, timeout, context overflow
                error = str(exc)
                continue
            if p_yes is not None:
                return Verdict(p_yes >= self.threshold, p_yes, raw, seconds=time.perf_counter() - started,
                               calls=counted.calls)
            error = f"not a Yes/No reply: {raw[:80]!r}"
            messages = [*messages, {"role": "assistant", "content": raw}, {"role": "user", "content": RETRY_MESSAGE}]
        return Verdict(None, None, raw, error, seconds=time.perf_counter() - started, calls=counted.calls)

    def _verdict_messages(self, counted: _CountedClient, claim: str, evidence: str) -> list[Message]:
        """The conversation ending in the Yes/No question (after the model's own answer, if the prompt asks)."""
        if not self.prompt.two_turn:
            return self.prompt.messages(evidence, claim)
        completion = counted.complete(self.prompt.messages(evidence, claim), max_tokens=self.draft_tokens,
                                      stop=["\n"])
        draft = (completion.choices[0].message.content or "").strip() if completion.choices else ""
        return self.prompt.messages(evidence, claim, draft)

    def _logprob_options(self) -> dict[str, Any]:
        return {"logprobs": True, "top_logprobs": 5} if self.use_logprobs else {}


@dataclass
class _CountedClient:
    """Counts the model calls one judgment costs (retries and draft turns included), always at temperature 0."""

    client: ChatClient
    calls: int = 0

    def complete(self, messages: list[Message], **options: Any) -> Any:
        if not self.calls:  # one judgment is one chat: what was judged before does not change its verdict
            self.client.begin(messages)
        self.calls += 1
        return self.client.complete(messages, temperature=0.0, **options)


def build_judge(name: str, settings: Settings, prompt: JudgePrompt = CLAIM) -> Judge:
    """``local`` (the bundled model), ``openai`` (RAG_OPENAI_* settings) or ``lexical``."""
    if name == "lexical":
        return LexicalJudge()
    if name in ("local", "openai"):
        return ModelJudge(build_chat_client(settings.model_copy(update={"llm": name})), prompt)
    raise ValueError(f"unknown judge {name!r}; choose one of {', '.join(JUDGES)}")


# --- reading the model's reply (pure) ---------------------------------------------------------------

_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def read_verdict(completion: Any) -> tuple[float | None, str]:
    """P(Yes) from a ChatCompletion: from the first word's top logprobs if present, else from its text."""
    choice = completion.choices[0] if getattr(completion, "choices", None) else None
    text = (getattr(getattr(choice, "message", None), "content", None) or "") if choice else ""
    p_yes = p_yes_from_logprobs(_first_word_alternatives(choice))
    return (p_yes if p_yes is not None else p_yes_from_text(text)), text


def p_yes_from_text(text: str) -> float | None:
    """1.0 for a reply starting with "Yes", 0.0 for "No", None for anything else."""
    match = _YES_NO.match(text)
    if not match:
        return None
    return 1.0 if match.group(1).lower() == "yes" else 0.0


def p_yes_from_logprobs(alternatives: Iterable[tuple[str, float]]) -> float | None:
    """P(Yes) / (P(Yes) + P(No)) over the alternatives for one token; None if neither word is among them."""
    mass = {"yes": 0.0, "no": 0.0}
    for token, logprob in alternatives:
        word = token.strip().lower()
        if word in mass:
            mass[word] += math.exp(logprob)
    total = mass["yes"] + mass["no"]
    return mass["yes"] / total if total > 0 else None


def _first_word_alternatives(choice: Any) -> list[tuple[str, float]]:
    """``(token, logprob)`` alternatives for the first non-blank generated token; [] without logprobs."""
    tokens = getattr(getattr(choice, "logprobs", None), "content", None) or []
    for token in tokens:
        if token.token.strip():
            return [(alt.token, alt.logprob) for alt in (token.top_logprobs or [])] or [(token.token, token.logprob)]
    return []


# --- combining verdicts (pure) ----------------------------------------------------------------------


def all_supported(verdicts: Sequence[Verdict]) -> Verdict:
    """A text split into claims is faithful only if every claim is: one "No" decides; one unjudged claim
    among "Yes" ones leaves the whole unjudged. ``p_supported`` is the weakest claim's."""
    if not verdicts:
        raise ValueError("all_supported needs at least one verdict (the text had no claims)")
    seconds = sum(v.seconds for v in verdicts)
    calls = sum(v.calls for v in verdicts)
    known = [v.p_supported for v in verdicts if v.p_supported is not None]
    if any(v.supported is False for v in verdicts):
        return Verdict(False, min(known), seconds=seconds, calls=calls)
    if any(v.supported is None for v in verdicts):
        errors = "; ".join(v.error for v in verdicts if v.error)
        return Verdict(None, None, error=errors, seconds=seconds, calls=calls)
    return replace(verdicts[0], supported=True, p_supported=min(known), raw="", seconds=seconds, calls=calls)
