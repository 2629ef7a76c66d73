"""Judge prompts as typed data: an instruction, templates, a few worked examples, a calibrated threshold.

Layout matters for speed on a CPU (~85 prompt tokens/s): the instruction and examples never change
and the evidence comes before the claim, so when several claims are checked against the same
evidence (the sentences of one summary, the claims of one answer) the local server's prompt cache
re-uses everything but the last lines.

A prompt with a ``draft_template`` is asked in two turns: the model first answers the question from
the evidence in a few words (a small model compares two answers far better than it checks one), then
says whether the claim agrees with that.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

Message = dict[str, str]


@dataclass(frozen=True)
class JudgeExample:
    """One worked example, shown to the model as user turns and its replies."""

    evidence: str
    claim: str
    supported: bool
    draft: str = ""  # its own short answer, for two-turn prompts


@dataclass(frozen=True)
class JudgePrompt:
    """``template`` has ``{evidence}`` and ``{claim}`` (one turn) or only ``{claim}`` (after a draft turn)."""

    name: str
    instruction: str
    template: str
    examples: tuple[JudgeExample, ...] = ()
    draft_template: str = ""  # with ``{evidence}``: asks for the model's own answer first
    threshold: float = 0.5  # P(Yes) from which a claim counts as supported (calibrated on HaluEval dev)
    min_coverage: float = 0.0  # a screened text whose words the evidence holds less than this is unsupported

    @property
    def two_turn(self) -> bool:
        return bool(self.draft_template)

    def messages(self, evidence: str, claim: str, draft: str | None = None) -> list[Message]:
        """The conversation to send; evidence always precedes the claim.

        A two-turn prompt without ``draft`` ends with the request for the model's own answer; with the
        ``draft`` it got, it ends with the verdict question.
        """
        messages: list[Message] = [{"role": "system", "content": self.instruction}]
        for example in self.examples:
            messages += self._case(example.evidence, example.claim, example.draft)
            messages.append({"role": "assistant", "content": "Yes" if example.supported else "No"})
        return messages + self._case(evidence, claim, draft)

    def _case(self, evidence: str, claim: str, draft: str | None) -> list[Message]:
        evidence, claim = evidence.strip(), claim.strip()
        if not self.two_turn:
            return [{"role": "user", "content": self.template.format(evidence=evidence, claim=claim)}]
        turns = [{"role": "user", "content": self.draft_template.format(evidence=evidence)}]
        if draft is None:
            return turns
        return turns + [{"role": "assistant", "content": draft.strip()},
                        {"role": "user", "content": self.template.format(claim=claim)}]


RETRY_MESSAGE = "Reply with one word: Yes or No."

_PORT = ("The port of Brest closed on Monday after winds reached 140 km/h, the mayor said. "
         "Ferries to Plymouth were cancelled until Wednesday.")


def qa_evidence(knowledge: str, question: str) -> str:
    """What a QA answer is judged against: the knowledge, then the question it answers."""
    return f"Knowledge:\n{knowledge.strip()}\n\nQuestion: {question.strip()}"


def reference_evidence(question: str, reference: str) -> str:
    """What an answer is graded against: the question and the dataset's reference answer."""
    return f"Question: {question.strip()}\nReference answer: {reference.strip()}"


# A claim against the passages it cites (answers), or a summary sentence against its article.
CLAIM = JudgePrompt(
    name="claim",
    instruction=(
        "You check whether a claim is supported by a text. Reply Yes if every fact in the claim is stated in "
        "the text or follows directly from it. Reply No if the claim contradicts the text or adds any fact the "
        "text does not state: a name, number, date, place, cause, quote or opinion. Reply with one word: Yes or No."
    ),
    template="Text:\n{evidence}\n\nClaim: {claim}\n\nIs the claim supported by the text? Yes or No.",
    examples=(
        JudgeExample(_PORT, "Strong winds closed the port of Brest.", True),
        JudgeExample(_PORT, "The port of Brest closed on Monday after winds of 160 km/h.", False),
        JudgeExample(_PORT, "The mayor closed the port to protect the fishing fleet.", False),
    ),
    # The 1.5B model leans to "Yes" (hallucinated summary sentences get P(Yes) ~0.6-0.8): calibrated on
    # 16 HaluEval summarization dev items (split "dev", seed 3): accuracy 0.38 at 0.5, 0.69 at 0.8.
    threshold=0.8,
    # The screen of a whole summary against its article, where the model alone is at chance (AUC 0.44).
    # Share of the summary's content words found in the article, on 500 HaluEval summarization dev
    # items: AUC 0.79 (seed 1) / 0.78 (seed 2); best accuracy at 0.85 (0.72) / 0.83 (0.72).
    min_coverage=0.85,
)

# A summary, sentence by sentence (HaluEval summarization): the claim prompt and its screen, with a cut of
# its own. A summary counts as hallucinated when any of its sentences is judged unsupported, so the cut
# that suits a whole summary is lower than one claim's: the 1.5B model's P(Yes) on a right sentence is
# often 0.4-0.7. Chosen on the 500 dev items (lines 4500-4999; session 30, by a rule registered before
# they were judged): accuracy 0.654 at 0.3 (0.1-0.3 tie), 0.570 at 0.8, 0.652 for the screen alone;
# then on 200 test items (0-4499): 70.5% against 59.5%. A claim of an answer keeps CLAIM's 0.8.
SUMMARY = replace(CLAIM, name="summary", threshold=0.3)

# An answer to a question against knowledge (HaluEval QA): the model answers first, then compares.
ANSWER = JudgePrompt(
    name="answer",
    instruction=(
        "You check answers to questions against the given knowledge. First answer the question yourself in a "
        "few words, using only the knowledge. Then say whether a proposed answer is correct: Yes if it gives "
        "the same answer as the knowledge, exactly what was asked; No if it names something else, contradicts "
        "the knowledge, adds facts the knowledge does not support, or stays vague."
    ),
    draft_template="{evidence}\n\nAnswer the question in a few words, from the knowledge only.",
    template="Proposed answer: {claim}\n\nIs the proposed answer correct? Yes or No.",
    examples=(
        JudgeExample(qa_evidence(_PORT, "Until when were ferries to Plymouth cancelled?"), "Until Friday.", False,
                     draft="Until Wednesday."),
        JudgeExample(qa_evidence(_PORT, "Why did the port of Brest close?"), "Winds of 140 km/h.", True,
                     draft="Winds reached 140 km/h."),
        JudgeExample(qa_evidence(_PORT, "Who announced the closure?"), "A local official announced it.", False,
                     draft="The mayor."),
    ),
    # Calibrated on 60 HaluEval QA dev items (split "dev", seed 2): accuracy 0.65 at 0.5, 0.83 at 0.8,
    # 0.72 at 0.9; AUC 0.84 (0.80 for the one-turn prompt on the same items).
    threshold=0.8,
)

# An answer against the dataset's reference answer (correctness, not grounding: extra detail is fine).
REFERENCE = JudgePrompt(
    name="reference",
    instruction=(
        "You grade an answer against a reference answer to the same question. Reply Yes if the answer gives "
        "the same answer as the reference (other wording, or extra details that do not contradict it, are fine). "
        "Reply No if it gives a different answer, contradicts the reference, misses its main point, or says it "
        "cannot answer. Reply with one word: Yes or No."
    ),
    template="{evidence}\nAnswer: {claim}\n\nDoes the answer agree with the reference? Yes or No.",
    examples=(
        JudgeExample(reference_evidence("Why did the port of Brest close?", "Winds of 140 km/h."),
                     "It closed on Monday because of 140 km/h winds, the mayor said.", True),
        JudgeExample(reference_evidence("Until when were ferries to Plymouth cancelled?", "Until Wednesday."),
                     "Until Friday.", False),
        JudgeExample(reference_evidence("Who announced the closure?", "The mayor."),
                     "I could not find the answer to that in the indexed articles.", False),
    ),
    # Not calibrated on a public set (HaluEval has no answer-vs-reference task). On seeds_dev the local
    # model gave wrong answers P(Yes) 0.69-0.74 and right ones 0.58-0.99: read it beside must_recall.
    threshold=0.5,
)

PROMPTS = {prompt.name: prompt for prompt in (CLAIM, SUMMARY, ANSWER, REFERENCE)}
