"""Judges: reading Yes/No and P(Yes), malformed output (retry, then unjudged), combining verdicts.

The real model cannot be made to answer garbage on demand, so a fake ChatClient stands in for that
fault only; the real local judge is exercised in test_eval_run.py (marked slow).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from rag import Answer, BackendError, Hit, Settings

from eval.dataset import EvalItem
from eval.judges import (LexicalJudge, ModelJudge, Verdict, all_supported, build_judge, p_yes_from_logprobs,
                         p_yes_from_text, read_verdict)
from eval.prompts import ANSWER, CLAIM, RETRY_MESSAGE, qa_evidence
from eval.runner import score_item


def completion(text: str, top: list[tuple[str, float]] | None = None) -> SimpleNamespace:
    """The shape of an openai ChatCompletion, as much of it as the judge reads."""
    logprobs = None
    if top is not None:
        alternatives = [SimpleNamespace(token=t, logprob=math.log(p)) for t, p in top]
        logprobs = SimpleNamespace(content=[SimpleNamespace(token=top[0][0], logprob=math.log(top[0][1]),
                                                            top_logprobs=alternatives)])
    return SimpleNamespace(choices=[SimpleNamespace(message=SimpleNamespace(content=text), logprobs=logprobs)])


class ScriptedClient:
    """Replies from a script (a string, or an exception to raise) and records every request."""

    backend = "fake"
    model = "fake"

    def __init__(self, *replies: str | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[list[dict[str, str]]] = []

    def begin(self, messages: list[dict[str, str]]) -> None:
        """A new chat: nothing to reset (``ChatClient.begin`` resets the bundled server's slot)."""

    def complete(self, messages: list[dict[str, str]], max_tokens: int, temperature: float = 0.0,
                 **extra: Any) -> SimpleNamespace:
        self.requests.append(messages)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return completion(reply)


# --- reading replies -------------------------------------------------------------------------------


def test_p_yes_from_logprobs_normalises_over_yes_and_no() -> None:
    assert p_yes_from_logprobs([("Yes", math.log(0.6)), ("No", math.log(0.2)), (" yes", math.log(0.1))]) \
        == pytest.approx(0.7 / 0.9)
    assert p_yes_from_logprobs([("No", 0.0)]) == 0.0
    assert p_yes_from_logprobs([("The", math.log(0.9)), ("Claim", math.log(0.1))]) is None


@pytest.mark.parametrize(("text", "expected"), [("Yes", 1.0), ("no.", 0.0), (" **Yes**, it is", 1.0),
                                                 ("Nope", None), ("The claim is supported", None), ("", None)])
def test_p_yes_from_text(text: str, expected: float | None) -> None:
    assert p_yes_from_text(text) == expected


def test_read_verdict_prefers_logprobs_and_falls_back_to_text() -> None:
    assert read_verdict(completion("Yes", [("Yes", 0.7), ("No", 0.3)]))[0] == pytest.approx(0.7)
    assert read_verdict(completion("No"))[0] == 0.0  # server without logprobs
    assert read_verdict(completion("Maybe", [("Maybe", 0.9)]))[0] is None
    assert read_verdict(SimpleNamespace(choices=[]))[0] is None


# --- malformed output ------------------------------------------------------------------------------


def test_garbage_twice_is_unjudged_never_supported() -> None:
    client = ScriptedClient("I think that", "Well, possibly")
    verdict = ModelJudge(client).judge("The port closed.", "The port closed on Monday.")  # type: ignore[arg-type]
    assert verdict.supported is None and verdict.p_supported is None and not verdict.judged
    assert verdict.calls == 2 and "not a Yes/No reply" in verdict.error
    retry = client.requests[1]
    assert retry[-2] == {"role": "assistant", "content": "I think that"}
    assert retry[-1] == {"role": "user", "content": RETRY_MESSAGE}


def test_garbage_then_an_answer_is_judged_on_the_retry() -> None:
    verdict = ModelJudge(ScriptedClient("Hmm", "No")).judge("x", "y")  # type: ignore[arg-type]
    assert (verdict.supported, verdict.p_supported, verdict.calls) == (False, 0.0, 2)


def test_backend_errors_are_retried_then_unjudged() -> None:
    client = ScriptedClient(BackendError("server down"), BackendError("server down"))
    verdict = ModelJudge(client).judge("x", "y")  # type: ignore[arg-type]
    assert verdict.supported is None and verdict.error == "server down"
    assert ModelJudge(ScriptedClient(BackendError("blip"), "Yes")).judge("x", "y").supported is True  # type: ignore[arg-type]


def test_unjudged_claims_do_not_count_as_supported_in_a_scored_answer() -> None:
    passage = "The port of Brest closed on Monday."
    hit = Hit("c1", "d1", passage, 0, len(passage), 1.0, source_name="a.txt")
    answer = Answer("The port of Brest closed.", False, [], [hit])
    judge = ModelJudge(ScriptedClient(*["???"] * 4))  # type: ignore[arg-type]
    result = score_item(EvalItem("q", "Why?", must=("Brest",)), answer, judge)
    assert result.metrics["faithfulness_retrieved"] is None  # nothing judged: no score, not 1.0
    assert result.metrics["unjudged_claims"] == 1
    assert result.unsupported_claims == ["The port of Brest closed."]  # cites nothing: unsupported by citations


def test_the_prompt_puts_evidence_before_the_claim_and_examples_before_both() -> None:
    messages = CLAIM.messages("ARTICLE TEXT", "A claim.")
    assert messages[0]["role"] == "system" and len(messages) == 2 + 2 * len(CLAIM.examples)
    assert messages[-1]["content"].index("ARTICLE TEXT") < messages[-1]["content"].index("A claim.")
    assert CLAIM.messages("a", "b")[:-1] == CLAIM.messages("c", "d")[:-1]  # a shared prefix for the cache


def test_a_two_turn_prompt_asks_for_the_model_s_own_answer_first() -> None:
    evidence = qa_evidence("Milhouse was named after Richard Nixon.", "Who was Milhouse named after?")
    first = ANSWER.messages(evidence, "Gerald Ford")
    assert first[-1]["role"] == "user" and "Gerald Ford" not in first[-1]["content"]  # the answer is not shown yet
    second = ANSWER.messages(evidence, "Gerald Ford", draft="Richard Nixon.")
    assert second[:len(first)] == first  # the verdict turn extends the draft conversation: a cache hit
    assert second[-2] == {"role": "assistant", "content": "Richard Nixon."}
    assert "Proposed answer: Gerald Ford" in second[-1]["content"]


def test_a_two_turn_judge_drafts_then_judges() -> None:
    client = ScriptedClient("Richard Nixon.", "No")
    judge = ModelJudge(client, ANSWER)  # type: ignore[arg-type]
    verdict = judge.judge("Gerald Ford", qa_evidence("Milhouse was named after Richard Nixon.", "Named after whom?"))
    assert (verdict.supported, verdict.calls) == (False, 2)
    assert client.requests[1][-2] == {"role": "assistant", "content": "Richard Nixon."}


def test_long_evidence_is_cut_to_fit_the_context() -> None:
    client = ScriptedClient("Yes")
    ModelJudge(client, max_evidence_chars=100).judge("claim", "x" * 10_000)  # type: ignore[arg-type]
    assert "x" * 101 not in client.requests[0][-1]["content"]


# --- lexical judge and combining -------------------------------------------------------------------


# --- the coverage screen of long texts -------------------------------------------------------------

PORT = ("The port of Brest closed on Monday after winds reached 140 km/h, the mayor said. "
        "Ferries to Plymouth were cancelled until Wednesday.")


def test_a_summary_with_words_the_article_never_uses_is_unfaithful_without_a_model_call() -> None:
    client = ScriptedClient()  # no replies scripted: any model call would fail the test
    invented = "Fishermen protested outside the town hall, demanding compensation for their lost catch."
    verdict = ModelJudge(client, CLAIM).screen(invented, PORT)  # type: ignore[arg-type]
    assert verdict is not None and verdict.supported is False and client.requests == []
    assert (verdict.p_supported, verdict.raw) == (0.0, "word coverage 0.00 < 0.85")
    # 3 of 8 content words in the article: P(supported) = threshold 0.8 x 0.375 / 0.85, below any "Yes"
    half = ModelJudge(client, CLAIM).screen("Ferries to Plymouth were cancelled as fishermen protested outside "  # type: ignore[arg-type]
                                            "the town hall.", PORT)
    assert half is not None and half.supported is False and half.raw == "word coverage 0.38 < 0.85"
    assert half.p_supported == pytest.approx(0.8 * 0.375 / 0.85)


def test_a_summary_in_the_article_s_words_goes_on_to_the_model() -> None:
    judge = ModelJudge(ScriptedClient(), CLAIM)  # type: ignore[arg-type]
    assert judge.screen("Winds of 140 km/h closed the port of Brest; ferries to Plymouth were cancelled.",
                        PORT) is None
    assert ModelJudge(ScriptedClient(), ANSWER).screen("Totally unrelated words", PORT) is None  # no floor set
    assert LexicalJudge().screen("Totally unrelated words", PORT) is None


def test_lexical_judge() -> None:
    judge = LexicalJudge()
    evidence = "Allie Goertz wrote a song about Milhouse, named after Richard Nixon."
    assert judge.judge("Milhouse was named after Richard Nixon.", evidence).supported is True
    assert judge.judge("Milhouse was named after Gerald Ford.", evidence).supported is False
    assert judge.judge("Richard Nixon", qa_evidence(evidence, "Who was Milhouse named after?")).supported is True


def test_all_supported() -> None:
    yes, no, unsure = Verdict(True, 0.9, calls=1), Verdict(False, 0.2, calls=1), Verdict(None, None, error="e")
    assert all_supported([yes, Verdict(True, 0.7)]).p_supported == 0.7
    assert all_supported([yes, no, unsure]).supported is False  # one No decides
    assert all_supported([yes, unsure]).supported is None  # cannot tell
    assert all_supported([yes, no]).calls == 2
    with pytest.raises(ValueError, match="at least one"):
        all_supported([])


def test_build_judge_rejects_unknown_names() -> None:
    assert isinstance(build_judge("lexical", Settings()), LexicalJudge)
    with pytest.raises(ValueError, match="local, openai, lexical"):
        build_judge("gpt5", Settings())


class UnsureClient(ScriptedClient):
    """Says Yes at P 0.5 to every claim: where CLAIM's and SUMMARY's cuts part."""

    def complete(self, messages: list[dict[str, str]], max_tokens: int, temperature: float = 0.0,
                 **extra: Any) -> SimpleNamespace:
        self.requests.append(messages)
        return completion("Yes", [("Yes", 0.5), ("No", 0.5)])


def test_a_summary_sentence_is_judged_at_the_summary_cut_and_an_answer_s_claim_at_the_claim_cut() -> None:
    """A summary is hallucinated when any sentence fails, so its per-sentence cut (0.3, chosen on the
    HaluEval dev split) is lower than one claim's (0.8): the same P(Yes) 0.5 passes a summary sentence
    and fails an answer's claim."""
    from eval.halueval import Case, judge_case
    from eval.prompts import SUMMARY

    summary = "Winds of 140 km/h closed the port of Brest; ferries to Plymouth were cancelled."
    verdict = judge_case(ModelJudge(UnsureClient(), CLAIM), Case(0, PORT, "", summary, True),  # type: ignore[arg-type]
                         "summarization")
    assert (verdict.supported, verdict.p_supported) == (True, pytest.approx(0.5)) and SUMMARY.threshold == 0.3
    assert ModelJudge(UnsureClient(), CLAIM).judge(summary, PORT).supported is False  # type: ignore[arg-type]
