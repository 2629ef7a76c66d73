"""How probable the model finds its own short answer, with the passage and without it (issue 13).

The fourth and fifth signals of the one probability (``rag.calibration``). The second look asks a 1.5B
model a yes/no question, and on news_dev's report half its P(yes) separated right from wrong answers
little better than chance (AUROC 0.63). Reading instead how probable the model finds the short answer
it wrote, token by token, when a grammar forces exactly that string after the second look's passage
and the question (teacher forcing), separated them better on every set (AUROC 0.80 tuning, 0.78
report, 0.82 holdout). The same string after the question alone (the prior) says how much the model
knew without the passage. Two short completions, each one forced token per word of the short answer.

The chat calls are here; the arithmetic is pure (``mean_logprob``, ``forced_grammar``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rag.generation import ChatClient

WITH_PASSAGE_SYSTEM = "You answer a question about a news article in a few words, from the passage given."
WITHOUT_PASSAGE_SYSTEM = "You answer a question about the news in a few words."
FORCED_TOKENS = 48  # longer short answers are cut here: the mean per token is what is read


class Likelihoods(NamedTuple):
    """Mean log probability per token of the short answer after the passage, and after the question alone."""

    evidence: float | None
    prior: float | None


def forced_grammar(text: str) -> str:
    """GBNF that allows exactly ``text``."""
    return 'root ::= "' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def mean_logprob(logprobs: Sequence[float]) -> float | None:
    """Length-normalised log probability (a long name is not penalised for its length)."""
    return sum(logprobs) / len(logprobs) if logprobs else None


def scoring_messages(question: str, passage: str | None) -> list[dict[str, str]]:
    """The chat the short answer is forced after: the passage and question, or the question alone."""
    if passage is None:
        return [{"role": "system", "content": WITHOUT_PASSAGE_SYSTEM},
                {"role": "user", "content": f"Question: {question}"}]
    return [{"role": "system", "content": WITH_PASSAGE_SYSTEM},
            {"role": "user", "content": f"Passage: {passage}\n\nQuestion: {question}"}]


def forced_logprobs(chat: ChatClient, messages: list[dict[str, str]], text: str) -> list[float]:
    """Each token's log probability under the model as the grammar forces ``text`` (the server reports the
    model's own distribution, before the grammar)."""
    response = chat.complete(messages, FORCED_TOKENS, 0.0, logprobs=True, top_logprobs=1,
                             extra_body={"grammar": forced_grammar(text)})
    content = response.choices[0].logprobs.content or []
    return [token.logprob for token in content if token.token.strip()]


def read_likelihoods(chat: ChatClient, question: str, passage: str, short: str) -> Likelihoods:
    """Both likelihoods of ``short`` (stripped, as the fit read it)."""
    short = short.strip()
    if not short:
        return Likelihoods(None, None)
    return Likelihoods(mean_logprob(forced_logprobs(chat, scoring_messages(question, passage), short)),
                       mean_logprob(forced_logprobs(chat, scoring_messages(question, None), short)))
