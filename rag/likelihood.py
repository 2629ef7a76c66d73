"""How probable the model finds its own short answer after the passage it rests on (issue 13).

A signal of the one probability (``rag.calibration``). The second look asks the 1.5B model whether the
chosen passage answers the question, and its P(yes) alone separated right from wrong answers little
better than chance on news_dev's report half (AUROC 0.63). How probable the model finds the short answer
it wrote, token by token, when a grammar forces exactly that string after the passage and the question
(teacher forcing), separated them better on every set (AUROC 0.80 tuning, 0.78 report, 0.82 holdout):
one short forced completion. Its chat is, word for word, the start of the second look's
(``rag.prompts.passage_messages``), and it is made right after the look, so the server reads only its
last few tokens (0.27 s against 2.10 s when the look had a system prompt of its own; session 35).

Measured and not adopted (session 29): the same likelihood read inside the second look's own chat,
continued with its "yes" (its prompt cached, so nearly free): AUROC 0.67 against 0.79 on the same 349
news_dev answers. Dropped (session 29): the likelihood after the question alone (the prior), weighed
0.064 through the gain and ~1 s of the first token.

The chat call is here; the arithmetic is pure (``mean_logprob``, ``forced_grammar``).
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.generation import ChatClient
from rag.prompts import passage_messages

FORCED_TOKENS = 48  # longer short answers are cut here: the mean per token is what is read


def forced_grammar(text: str) -> str:
    """GBNF that allows exactly ``text``."""
    return 'root ::= "' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def mean_logprob(logprobs: Sequence[float]) -> float | None:
    """Length-normalised log probability (a long name is not penalised for its length)."""
    return sum(logprobs) / len(logprobs) if logprobs else None


def evidence_messages(question: str, passage: str) -> list[dict[str, str]]:
    """The chat the short answer is forced after: the passage and the question, word for word the start
    of the second look's chat, which is made first and leaves them in the server's KV cache."""
    return passage_messages(passage, question)


def forced_logprobs(chat: ChatClient, messages: list[dict[str, str]], text: str) -> list[float]:
    """Each token's log probability under the model as the grammar forces ``text`` (the server reports the
    model's own distribution, before the grammar)."""
    response = chat.complete(messages, FORCED_TOKENS, 0.0, logprobs=True, top_logprobs=1,
                             extra_body={"grammar": forced_grammar(text)})
    content = response.choices[0].logprobs.content or []
    return [token.logprob for token in content if token.token.strip()]


def evidence_likelihood(chat: ChatClient, question: str, passage: str, short: str) -> float | None:
    """Mean log probability per token of ``short`` (stripped, as the fit read it) after the passage and
    question; None for an empty short answer."""
    short = short.strip()
    return mean_logprob(forced_logprobs(chat, evidence_messages(question, passage), short)) if short else None
