"""Retrieval quality on HotpotQA passages: keyword, dense, hybrid, and the plain llama-index pipeline.

Each HaluEval QA item's ``knowledge`` passage is an article; the question's own passage is its gold.
Recall@1/5/10 and MRR are computed on a random test sample of questions; a disjoint tuning sample is
scored the same way, and only it may be used to choose settings (it is reported beside the test).

The baseline is what a user would write with llama-index defaults: one ``Document`` per passage,
``VectorStoreIndex.from_documents`` (default ``SentenceSplitter``, in-memory ``SimpleVectorStore``)
with the same MiniLM embedding model, and ``as_retriever(similarity_top_k=10)``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.fusion import reciprocal_rank_fusion

from eval.bench import machine
from eval.bench.corpus import PassageCorpus, Question, split_questions, write_passages
from eval.bench.metrics import first_relevant_rank, latency_summary, ranking_quality

DEPTH = 10  # recall@10 and MRR@10
MODES = ("keyword", "dense", "hybrid")
Search = Callable[[str], list[str]]  # question -> ranked passage ids


def index_dir(work: Path, n: int) -> Path:
    return work / f"index-hotpotqa-{n}"


def run(n: int, work: Path, questions: int = 500, tune: int = 500) -> dict[str, object]:
    from rag import NewsRAG, Settings

    corpus = write_passages(work, n)
    engine = NewsRAG(Settings(data_dir=index_dir(work, n), llm="extractive", chroma_url=None))
    started = time.perf_counter()
    report = engine.ingest([corpus.path], progress=_progress("ingest"))
    ingest_seconds = time.perf_counter() - started
    test_set, tune_set = split_questions(corpus.questions, questions, tune)
    plain = plain_retriever(corpus, work / f"plain-hotpotqa-{n}", engine.embed_model)

    searches: dict[str, Search] = {mode: _ours(engine, mode) for mode in MODES}
    searches["llama-index plain"] = plain
    result: dict[str, object] = {
        "corpus": f"HaluEval QA (HotpotQA) knowledge passages of the first {n} items",
        "passages": corpus.passages, "chunks": engine.store.count_chunks(),
        "ingest_seconds": round(ingest_seconds, 1), "chunks_embedded": report.chunks_embedded,
        "settings": {"chunk_size": engine.settings.chunk_size, "chunk_overlap": engine.settings.chunk_overlap,
                     "candidates": engine.settings.candidates, "depth": DEPTH},
        "test": score_all(searches, test_set),
        "tune": score_all(searches, tune_set) if tune_set else {},
        "fusion": fusion_study(engine, tune_set, test_set) if tune_set else {},
    }
    return result


FusionSetting = tuple[int, float, int]  # (candidates per list, dense weight, RRF constant)
SHIPPED: FusionSetting = (20, 1.0, 60)


def fusion_study(engine, tune: Sequence[Question], test: Sequence[Question]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Would other fusion settings do better? Chosen on the tuning questions, checked once on the test ones.

    The dense and BM25 lists are fetched once per question, then fused offline with
    ``rag.fusion.reciprocal_rank_fusion`` (without its near-duplicate collapsing) for several candidate
    counts, dense weights and RRF constants. The shipped setting is candidates=20, weight=1, k=60.
    """
    tune_lists = _ranked_lists(engine, tune)
    sweep = [{"candidates": c, "dense_weight": w, "rrf_k": k, **_fused_quality(tune_lists, (c, w, k))}
             for c in (10, 20, 50) for w in (0.5, 1.0, 2.0) for k in (10, 60)]
    best = max(sweep, key=lambda row: (row["recall@5"], row["mrr"]))
    chosen: FusionSetting = (int(best["candidates"]), float(best["dense_weight"]), int(best["rrf_k"]))
    test_lists = _ranked_lists(engine, test)
    return {"sweep_on_tune": sweep,
            "best_on_tune": {"candidates": chosen[0], "dense_weight": chosen[1], "rrf_k": chosen[2]},
            "best_on_test": _fused_quality(test_lists, chosen), "shipped_on_test": _fused_quality(test_lists, SHIPPED)}


def _ranked_lists(engine, questions: Sequence[Question], depth: int = 50) -> list[tuple]:  # type: ignore[no-untyped-def, type-arg]
    lists = []
    for question in questions:
        dense = [(h.chunk_id, passage_of(h.source)) for h in engine.search(question.question, k=depth, mode="dense")]
        sparse = [(h.chunk_id, passage_of(h.source))
                  for h in engine.search(question.question, k=depth, mode="keyword")]
        lists.append((dense, sparse, question.gold))
    return lists


def _fused_quality(lists: list[tuple], setting: FusionSetting) -> dict[str, float]:  # type: ignore[type-arg]
    """The engine's own fusion (``rag.fusion``) under one setting, so the study measures what ships."""
    candidates, weight, rrf_k = setting
    ranks = []
    for dense, sparse, gold in lists:
        passage = dict(dense + sparse)  # chunk id -> passage id
        chunks = [[chunk for chunk, _ in ranking[:candidates]] for ranking in (dense, sparse)]
        fused = reciprocal_rank_fusion(chunks, k=rrf_k, weights=[weight, 1.0])
        ranks.append(first_relevant_rank([passage[chunk] for chunk, _ in fused[:DEPTH]], gold))
    return ranking_quality(ranks)


def score_all(searches: dict[str, Search], questions: Sequence[Question]) -> dict[str, object]:
    """Quality and latency of every retriever on the same questions (warmed up first, not timed)."""
    for search in searches.values():
        for question in questions[:3]:
            search(question.question)
    out: dict[str, object] = {"questions": len(questions), "load_before": machine.load()}
    for name, search in searches.items():
        ranks, seconds = [], []
        for question in questions:
            started = time.perf_counter()
            ranked = search(question.question)
            seconds.append(time.perf_counter() - started)
            ranks.append(first_relevant_rank(ranked, question.gold))
        out[name] = {**ranking_quality(ranks), "latency": latency_summary(seconds)}
    out["load_after"] = machine.load()
    return out


def _ours(engine, mode: str) -> Search:  # type: ignore[no-untyped-def]
    def search(question: str) -> list[str]:
        return [passage_of(hit.source) for hit in engine.search(question, k=DEPTH, mode=mode)]

    return search


def passage_of(source: str) -> str:
    """The passage id of a hit: its source is ``<file>#<id>``."""
    return source.rsplit("#", 1)[-1]


def plain_retriever(corpus: PassageCorpus, persist_dir: Path, embed_model) -> Search:  # type: ignore[no-untyped-def]
    """A default llama-index ``VectorStoreIndex`` over the passages (built once, then loaded)."""
    from llama_index.core import Document, StorageContext, VectorStoreIndex, load_index_from_storage

    stamp = persist_dir / "bench_stamp.json"
    wanted = {"passages": corpus.passages, "embed": getattr(embed_model, "model_name", "")}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        index = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(persist_dir)),
                                        embed_model=embed_model)
    else:
        documents = [Document(text=record["text"], id_=record["id"]) for record in _records(corpus.path)]
        print(f"  plain llama-index: embedding {len(documents)} passages", file=sys.stderr, flush=True)
        index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)
        index.storage_context.persist(persist_dir=str(persist_dir))
        stamp.write_text(json.dumps(wanted))
    retriever = index.as_retriever(similarity_top_k=DEPTH)

    def search(question: str) -> list[str]:
        return [result.node.ref_doc_id or "" for result in retriever.retrieve(question)]

    return search


def _records(folder: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _progress(what: str):  # type: ignore[no-untyped-def]
    def report(done: int, total: int, name: str) -> None:
        if done % 10 == 0 or done == total:
            print(f"  {what}: {done}/{total} files, load {machine.load()[0]}", file=sys.stderr, flush=True)

    return report
