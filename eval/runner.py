"""Run a dataset through ``NewsRAG`` and score every answer.

Per item: ask (or chat, when the item carries a ``history``), split the answer into claims, judge each
claim against the passages it cites and, as a second number, against everything retrieved; score
correctness (``must`` items, and the judge against the reference answer), citations, retrieval, refusal
and latency. Scoring is in ``score_item`` (engine-free); ``run_eval`` drives the engine.

The answer a user sees has been through the citation check, which leaves out every sentence stating a
number or name its evidence does not hold; its faithfulness is high by construction. So the run also
keeps the *draft* (``Answer.draft``: what the answerer wrote before that check) and judges its
sentences against everything retrieved: ``faithfulness_draft`` is how faithful the answerer itself is,
and ``filtered_claims`` counts the sentences the check had to leave out.

A run is durable: each result is appended to a checkpoint file as soon as it is scored, so a killed or
interrupted run resumes where it stopped, and an exception in one item becomes that item's error
(retried on resume) instead of losing the results before it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag import Answer, NewsRAG
from rag.citations import Claim, split_claims  # the same sentences and markers the citation check saw

from eval import metrics
from eval.dataset import EvalItem
from eval.judges import Judge, Verdict
from eval.prompts import CLAIM, REFERENCE, reference_evidence

Progress = Callable[[int, int, str], None]
NOT_CITED = "the claim cites no passage"
CHECKS_PER_CLAIM = 2  # a claim is judged against its cited passages and against every retrieved one
# A draft's sentences carry no citations yet: only their retrieved verdict is measured.
NOT_JUDGED_CITED = Verdict(None, None, error="a draft sentence has no citations")


@dataclass
class ClaimResult:
    text: str
    markers: list[int]
    cited: Verdict  # against the passages its markers point at
    retrieved: Verdict  # against all retrieved passages


@dataclass
class ItemResult:
    """One line of ``results.jsonl``."""

    id: str
    question: str
    unanswerable: bool
    answer: str
    refused: bool
    error: str
    citations: list[dict[str, Any]]
    retrieved: list[str]  # source file of each retrieved passage, in rank order
    claims: list[ClaimResult]
    unsupported_claims: list[str]
    reference_verdict: Verdict | None
    metrics: dict[str, float | bool | int | None]
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    model: str = ""
    confidence: float | None = None  # the answerer's, whatever the thresholds decided: for choosing them
    verification: float | None = None
    short: str | None = None  # the answer in a few words, and why it does not answer ("" when nothing shows it)
    short_gap: str = ""
    short_confidence: float | None = None
    # The one probability and the likelihood it read (``rag.calibration``): a stored run can be scored
    # again at another fit or threshold without answering again.
    answer_probability: float | None = None
    evidence_likelihood: float | None = None
    exception: str = ""  # set when answering or scoring raised: counted as an error, retried on resume
    draft: str | None = None  # the answer before the citation check; None when none was written
    draft_claims: list[ClaimResult] = field(default_factory=list)  # judged against all retrieved passages
    filtered_claims: list[str] = field(default_factory=list)  # draft sentences the answer does not show
    asked: str = ""  # the question as answered: a follow-up rewritten to stand alone ("" before this was kept)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemResult:
        """The inverse of ``to_json`` (reading a checkpoint back)."""
        def claims(key: str) -> list[ClaimResult]:
            return [ClaimResult(c["text"], list(c["markers"]), Verdict(**c["cited"]), Verdict(**c["retrieved"]))
                    for c in data.get(key, [])]

        reference = data.get("reference_verdict")
        return cls(**{**data, "claims": claims("claims"), "draft_claims": claims("draft_claims"),
                      "reference_verdict": Verdict(**reference) if reference else None})


@dataclass
class EvalRun:
    results: list[ItemResult]
    summary: dict[str, Any]


# --- claims and evidence (pure) ----------------------------------------------------------------------


def cited_passages(answer: Answer, numbers: Sequence[int]) -> list[str]:
    """The retrieved passages the markers point at: each citation's quote lies inside one hit.

    Falls back to the citation's quote when no hit contains it (the quote is verbatim article text).
    """
    passages: list[str] = []
    for citation in answer.citations:
        if citation.n not in numbers:
            continue
        hit = answer.passage_of(citation)
        passage = hit.text if hit else citation.quote
        if passage not in passages:
            passages.append(passage)
    return passages


def join_passages(passages: Sequence[str]) -> str:
    return "\n\n".join(passages)


# --- scoring one item --------------------------------------------------------------------------------


def judge_claims(answer: Answer, judge: Judge) -> list[ClaimResult]:
    """Each claim against its cited passages and against all retrieved passages (a refusal has none).

    All cited checks run first, then all retrieved ones: consecutive checks against the same evidence
    let the local server's prompt cache skip re-reading it.
    """
    if answer.refused or answer.error or not answer.text.strip():
        return []
    claims = split_claims(answer.text)
    cited = [_judge_cited(claim, answer, judge) for claim in claims]
    everything = join_passages([hit.text for hit in answer.hits])
    retrieved = [judge.judge(claim.text, everything) for claim in claims]
    return [ClaimResult(claim.text, list(claim.markers), c, r) for claim, c, r in zip(claims, cited, retrieved)]


def judge_draft(draft: str | None, answer: Answer, final: Sequence[ClaimResult],
                judge: Judge) -> list[ClaimResult]:
    """Each sentence of the draft against all retrieved passages (what the answerer was shown); a
    sentence the final answer kept reuses its verdict, so only the ones left out cost a judge call."""
    if not draft or answer.error:
        return []
    kept = {claim.text: claim.retrieved for claim in final}
    everything = join_passages([hit.text for hit in answer.hits])
    return [ClaimResult(claim.text, list(claim.markers), NOT_JUDGED_CITED,
                        kept.get(claim.text) or judge.judge(claim.text, everything))
            for claim in split_claims(draft)]


def left_out(drafted: Sequence[ClaimResult], answer: Answer) -> list[str]:
    """The draft sentences the answer does not show: left out by the citation check, or all of them when
    the answer became a refusal. Compared as text, markers removed: the answer may join a headline
    (no full stop) and the next sentence into one claim."""
    shown = "" if answer.refused or answer.error else _plain(metrics.strip_markers(answer.text))
    return [claim.text for claim in drafted if _plain(claim.text) not in shown]


def _plain(text: str) -> str:
    return " ".join(text.split())


def _judge_cited(claim: Claim, answer: Answer, judge: Judge) -> Verdict:
    passages = cited_passages(answer, claim.markers)
    return judge.judge(claim.text, join_passages(passages)) if passages else Verdict(False, 0.0, NOT_CITED)


def judge_reference(item: EvalItem, answer: Answer, judge: Judge) -> Verdict | None:
    """Does the answer agree with the reference answer? None when there is nothing to compare, or the
    judge cannot grade references (the lexical one: ``must_recall`` is the model-free correctness)."""
    if item.unanswerable or not item.answer or not judge.grades_references:
        return None
    if answer.refused or answer.error:
        return Verdict(False, 0.0, "no answer given")
    return judge.with_prompt(REFERENCE).judge(metrics.strip_markers(answer.text),
                                              reference_evidence(item.question, item.answer))


def item_metrics(item: EvalItem, answer: Answer, claims: Sequence[ClaimResult],
                 reference: Verdict | None, draft_claims: Sequence[ClaimResult] = (),
                 filtered: int = 0) -> dict[str, float | bool | int | None]:
    """The per-item numbers that ``metrics.summarize`` aggregates."""
    cited_files = cited_articles(answer)
    retrieved = retrieved_articles(answer)
    answerable = not item.unanswerable
    must = _must_recall(item, answer)
    return {
        "answerable": answerable,
        "refused": answer.refused,
        "error": bool(answer.error),
        "must_recall": must,
        "correct": None if must is None else must == 1.0,
        "reference_agreement": None if reference is None or reference.supported is None else reference.supported,
        "faithfulness_cited": metrics.faithfulness([c.cited.supported for c in claims]),
        "faithfulness_retrieved": metrics.faithfulness([c.retrieved.supported for c in claims]),
        "faithfulness_draft": metrics.faithfulness([c.retrieved.supported for c in draft_claims]),
        "claims": len(claims),
        "filtered_claims": filtered,
        "unsupported_claims": sum(c.cited.supported is False for c in claims),
        "unjudged_claims": sum(c.cited.supported is None for c in claims)
        + sum(c.retrieved.supported is None for c in claims),
        "citation_precision": metrics.citation_precision(cited_files, item.sources) if answerable else None,
        "citation_recall": metrics.citation_recall(cited_files, item.sources) if answerable else None,
        "gold_cited": metrics.gold_cited(cited_files, item.sources) if must == 1.0 else None,
        "retrieval_hit": metrics.retrieval_hit(retrieved, item.sources),
        "reciprocal_rank": metrics.reciprocal_rank(retrieved, item.sources),
        "latency_total": answer.timings.get("total"),
        "latency_first_token": answer.timings.get("first_token"),
        # 0 is "not reported": the server sends the prompt size at the end of a stream, and a refusal
        # closes the stream at the choice line. Counting those as 0 made the mean 16 tokens on HotpotQA.
        "prompt_tokens": answer.prompt_tokens or None,
    }


def retrieved_articles(answer: Answer) -> list[str]:
    """The article of each retrieved passage, in rank order, as a dataset names it (``metrics.article_label``)."""
    return [metrics.article_label(hit.source_name, hit.source) for hit in answer.hits]


def cited_articles(answer: Answer) -> list[str]:
    """The article each citation points at, as a dataset names it: a citation carries its file's name
    only, its passage's hit the article's key within a collection file."""
    by_doc = {hit.doc_id: metrics.article_label(hit.source_name, hit.source) for hit in answer.hits}
    return [by_doc.get(c.doc_id, c.source) for c in answer.citations]


def _must_recall(item: EvalItem, answer: Answer) -> float | None:
    """None when the item has no ``must`` items (or is unanswerable); a refusal found none of them."""
    if item.unanswerable or not item.must:
        return None
    return 0.0 if answer.refused else metrics.must_recall(answer.text, item.must)


def score_item(item: EvalItem, answer: Answer, judge: Judge, draft: str | None = None) -> ItemResult:
    """Everything measured about one answer (no engine needed: tests build the ``Answer`` by hand);
    ``draft`` is the answer before the citation check, when it was recorded."""
    claim_judge = judge.with_prompt(CLAIM)
    claims = judge_claims(answer, claim_judge)
    drafted = judge_draft(draft, answer, claims, claim_judge)
    filtered = left_out(drafted, answer)
    reference = judge_reference(item, answer, judge)
    return ItemResult(
        id=item.id, question=item.question, asked=answer.question or item.question,
        unanswerable=item.unanswerable, answer=answer.text,
        refused=answer.refused, error=answer.error,
        citations=[{"n": c.n, "source": c.source, "title": c.title, "quote": c.quote} for c in answer.citations],
        retrieved=retrieved_articles(answer),
        claims=claims,
        unsupported_claims=[c.text for c in claims if c.cited.supported is False],
        reference_verdict=reference,
        metrics=item_metrics(item, answer, claims, reference, drafted, len(filtered)),
        timings=dict(answer.timings), prompt_tokens=answer.prompt_tokens, model=answer.model,
        confidence=answer.confidence, verification=answer.verification,
        short=answer.short, short_gap=answer.short_gap, short_confidence=answer.short_confidence,
        answer_probability=answer.answer_probability, evidence_likelihood=answer.evidence_likelihood,
        draft=draft, draft_claims=drafted, filtered_claims=filtered,
    )


# --- running a dataset -------------------------------------------------------------------------------


def answer_item(engine: NewsRAG, item: EvalItem) -> Answer:
    """A follow-up (with ``history``) goes through ``chat``, which rewrites it to stand alone."""
    if item.history:
        return engine.chat(list(item.history), item.question)
    return engine.ask(item.question)


def run_eval(items: Sequence[EvalItem], engine: NewsRAG, judge: Judge,
             progress: Progress | None = None, checkpoint: Path | None = None,
             status: Callable[[str], None] = lambda message: None) -> EvalRun:
    """Answer and score every item; the summary carries the aggregate metrics and the run's settings.

    With ``checkpoint``, each result is appended there as it finishes, and results already in it from
    an interrupted run of the same items and settings are reused instead of being answered again.
    """
    started = time.perf_counter()
    fingerprint = run_fingerprint(items, engine, judge)
    done = read_checkpoint(checkpoint, fingerprint) if checkpoint else {}
    if done:
        status(f"resuming: {len(done)} of {len(items)} results kept from an interrupted run ({checkpoint})")
    writer = _open_checkpoint(checkpoint, fingerprint, done.values()) if checkpoint else None
    results = []
    try:
        for count, item in enumerate(items, start=1):
            result = done.get(item.id) or _score_safely(item, engine, judge)
            if writer is not None and item.id not in done:
                writer.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
                writer.flush()
            results.append(result)
            if progress:
                progress(count, len(items), item.id)
    finally:
        if writer is not None:
            writer.close()
    summary = {
        "metrics": metrics.summarize([r.metrics for r in results]),
        "run": {"items": len(items), "llm": engine.settings.llm, "judge": judge.name,
                "judge_threshold": judge.with_prompt(CLAIM).threshold,
                "seconds": round(time.perf_counter() - started, 1), "resumed_items": len(done)},
    }
    return EvalRun(results, summary)


def _score_safely(item: EvalItem, engine: NewsRAG, judge: Judge) -> ItemResult:
    """``score_item`` of the engine's answer; any exception becomes this item's error, never the run's end."""
    try:
        answer = answer_item(engine, item)
        return score_item(item, answer, judge, answer.draft)
    except Exception as exc:  # noqa: BLE001  one item's failure must not lose the others
        message = f"{type(exc).__name__}: {exc}"
        failed = Answer(text="", refused=False, backend=engine.settings.llm, error=message)
        result = score_item(item, failed, judge)  # an errored answer calls no judge
        result.exception = message
        return result


def run_fingerprint(items: Sequence[EvalItem], engine: NewsRAG, judge: Judge) -> str:
    """What must match for a checkpoint to be reused: the items, every setting, the judge."""
    settings = engine.settings.model_dump(mode="json")
    text = json.dumps({"items": [asdict(item) for item in items], "settings": settings, "judge": judge.name},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_checkpoint(path: Path, fingerprint: str) -> dict[str, ItemResult]:
    """Results of an earlier, interrupted run with this fingerprint (items that raised are left out,
    so they are tried again); {} when there is none, it is another run's, or unreadable."""
    if not path.exists():
        return {}
    done: dict[str, ItemResult] = {}
    with path.open(encoding="utf-8") as lines:
        try:
            if json.loads(next(lines, "{}")).get("fingerprint") != fingerprint:
                return {}
            for line in lines:
                result = ItemResult.from_json(json.loads(line))
                if not result.exception:
                    done[result.id] = result
        except (json.JSONDecodeError, TypeError, KeyError):
            pass  # a line cut by a kill: everything before it is kept
    return done


def _open_checkpoint(path: Path, fingerprint: str, kept: Any):  # type: ignore[no-untyped-def]
    """Rewrite the checkpoint with its header and the results kept (drops a cut last line), then append."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".tmp")
    with staging.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"fingerprint": fingerprint}) + "\n")
        out.writelines(json.dumps(result.to_json(), ensure_ascii=False) + "\n" for result in kept)
    staging.replace(path)
    return path.open("a", encoding="utf-8")
