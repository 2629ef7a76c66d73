"""Answer latency: end to end on the CNN/DailyMail index, and on the seeds beside a naive pipeline.

- ``end_to_end``: ``NewsRAG.ask`` on the CNN/DailyMail index with the extractive and/or local backend,
  embedded Chroma beside a ``chroma run`` server (each in its own process), asked news_dev's questions
  whose articles the index holds.
- ``seeds`` (issue 4): every question of ``eval/datasets/seeds_dev.jsonl`` with the local model, time to
  first token, total time and prompt tokens, beside a naive pipeline measured in the same run with the
  same model: ~900-character chunks (raw files, ``SentenceSplitter``), dense only, top 4, llama-index's
  default question-answering prompt. The two alternate question by question, so load drift hits both.
  Times are what the caller sees: from the call to the first streamed text, and to the end. Both
  pipelines run with the answer cache off; a few questions are then stored as examples and asked twice with it
  on (``repeated``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.generation import Usage

from eval import metrics
from eval.bench import machine
from eval.bench.latency import ensure_index
from eval.bench.metrics import latency_summary, percentile
from eval.bench.news import NEWS_DEV
from eval.bench.server import chroma_server, in_child

if TYPE_CHECKING:
    from rag import Answer, NewsRAG

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
SEEDS_DEV = REPO / "eval" / "datasets" / "seeds_dev.jsonl"
TARGET_TTFT_S = 4.0
TARGET_TOTAL_S = 8.0
NAIVE_CHUNK_TOKENS = 200  # ~900 characters of English news per chunk
NAIVE_TOP_K = 4
REPEATED_QUESTIONS = 5  # asked twice with the answer cache on: a repeat costs milliseconds, so few suffice


# --- end to end on the big index -------------------------------------------------------------------
def end_to_end(n: int, work: Path, llm: str, questions: int) -> dict[str, object]:
    data_dir, summary_openings = ensure_index(n, work)
    asked = archive_questions(n)
    chosen = (asked or summary_openings)[:questions]
    embedded = in_child(_ask_all, str(data_dir), None, llm, chosen)
    with chroma_server(data_dir / "chroma") as url:
        server = in_child(_ask_all, str(data_dir), url, llm, chosen)
    return {"corpus": f"HaluEval CNN/DailyMail, first {n} articles", "backend": llm,
            "questions_from": "news_dev" if asked else "summary openings", "embedded": embedded, "server": server}


def archive_questions(n: int, dataset: Path = NEWS_DEV) -> list[str]:
    """news_dev's questions (answerable and near-misses, as users ask) whose articles are all among the
    index's first ``n``. Until 2026-12-06 the bench asked each article's summary opening, a statement the
    engine mostly refused (17 of 20), so the local model's figures were mostly a refusal's time."""
    chosen = []
    for line in dataset.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        lines = [int(m) for source in item.get("sources", []) for m in re.findall(r"cnn_(\d{5})", source)]
        if lines and max(lines) < n:
            chosen.append(item["question"])
    return chosen


def _ask_all(data_dir: str, chroma_url: str | None, llm: str, queries: list[str]) -> dict[str, object]:
    from rag import NewsRAG, Settings

    engine = NewsRAG(Settings(data_dir=Path(data_dir), chroma_url=chroma_url, llm=llm, answer_cache=0))
    started = time.perf_counter()
    engine.ask(queries[0])  # loads the embedding model, BM25 and (local) the language model
    warm_up = time.perf_counter() - started
    load_before = machine.load()
    timings: dict[str, list[float]] = {"retrieve": [], "first_token": [], "total": []}
    prompt_tokens, refused = [], 0
    for query in queries:
        answer = engine.ask(query)
        for key in timings:
            if key in answer.timings:
                timings[key].append(answer.timings[key])
        if answer.prompt_tokens:  # a refusal reports none: averaged in, the local model read "46 tokens"
            prompt_tokens.append(answer.prompt_tokens)
        refused += answer.refused
    return {"store": "server" if chroma_url else "embedded", "questions": len(queries),
            "warm_up_s": round(warm_up, 2), "refused": refused,
            **{key: latency_summary(values) for key, values in timings.items()},
            "prompt_tokens_mean": round(sum(prompt_tokens) / len(prompt_tokens), 1) if prompt_tokens else 0,
            "load_before": load_before, "load_after": machine.load()}


# --- seeds: ours beside the naive pipeline ----------------------------------------------------------
def seeds(work: Path, llm: str) -> dict[str, object]:
    return in_child(_seeds, str(work), llm)


def _seeds(work: str, llm: str) -> dict[str, object]:
    from rag import NewsRAG, Settings, build_chat_client

    engine = NewsRAG(Settings(data_dir=Path(work) / "index-seeds", llm=llm, chroma_url=None, answer_cache=0))
    engine.ingest([SEEDS])
    items = [json.loads(line) for line in SEEDS_DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    pipelines: dict[str, Callable[[dict], Iterator[Any]]] = {"ours": lambda item: _ours(engine, item)}  # type: ignore[type-arg]
    if llm != "extractive":
        naive = NaivePipeline(SEEDS, engine.embed_model, build_chat_client(engine.settings),
                              engine.settings.max_answer_tokens)
        pipelines["naive"] = naive.stream
    for stream in pipelines.values():  # warm-up: model load, first prompt evaluation
        _timed(stream(items[0]))
    load_before = machine.load()
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in pipelines}
    for index, item in enumerate(items):
        order = list(pipelines) if index % 2 == 0 else list(reversed(pipelines))
        for name in order:
            rows[name].append({"id": item["id"], **_timed(pipelines[name](item)), "expected": item})
    out: dict[str, object] = {"questions": len(items), "backend": llm, "load_before": load_before,
                              "load_after": machine.load(), "target_ttft_s": TARGET_TTFT_S,
                              "target_total_s": TARGET_TOTAL_S}
    for name, results in rows.items():
        out[name] = _summarise(results)
    if "naive" in pipelines:
        out["naive_setup"] = {"chunk_tokens": NAIVE_CHUNK_TOKENS, "top_k": NAIVE_TOP_K,
                              "mean_chunk_chars": naive.mean_chunk_chars}
    out["repeated"] = _repeated(engine, items)
    return out


def _repeated(engine: NewsRAG, items: list[dict[str, Any]], count: int = REPEATED_QUESTIONS) -> dict[str, object]:
    """The answer cache (``RAG_ANSWER_CACHE``): the first ``count`` single questions stored as the empty
    chat's examples (the only questions it keeps answers for), each asked twice by an engine that keeps
    answers, on the same index and model. The first ask is the baseline, in this run."""
    from rag import NewsRAG

    keeping = NewsRAG(engine.settings.model_copy(update={"answer_cache": count}))
    asked = [item["question"] for item in items if not item.get("history")][:count]
    for n, question in enumerate(asked):  # keys no article has: they stand for examples the model wrote
        keeping.suggestions.put(f"bench-repeated-{n}:{keeping.answering_model}", question)
    first, again = [], []
    for question in asked:
        first.append(_timed(keeping.stream(question)))
        again.append(_timed(keeping.stream(question)))
    served = sum(bool(getattr(r["answer"], "cached", False)) for r in again)
    same = sum(a["text"] == b["text"] for a, b in zip(first, again))
    first_p50, again_p50 = percentile([r["total_s"] for r in first], 50), percentile([r["total_s"] for r in again], 50)
    return {"questions": len(asked), "served_from_cache": served, "same_answer": same,
            "first_total_p50_s": round(first_p50, 2) if first_p50 is not None else None,
            "repeat_total_p50_ms": round(again_p50 * 1000, 2) if again_p50 is not None else None}


def _ours(engine: NewsRAG, item: dict[str, Any]) -> Iterator[str | Answer]:
    """Text deltas then the final Answer; a follow-up is rewritten from its history first."""
    if item.get("history"):
        yield from engine.stream_chat(item["history"], item["question"])
    else:
        yield from engine.stream(item["question"])


def _timed(stream: Iterator[Any]) -> dict[str, Any]:
    """Time to the first text (or to the answer when nothing streams, e.g. a refusal) and to the end."""
    started = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    final = None
    for item in stream:
        if isinstance(item, str):
            if first is None and item.strip():
                first = time.perf_counter() - started
            parts.append(item)
        else:
            final = item
    total = time.perf_counter() - started
    text = getattr(final, "text", None) or "".join(parts)
    return {"first_token_s": round(first if first is not None else total, 3), "total_s": round(total, 3),
            "streamed": first is not None, "prompt_tokens": int(getattr(final, "prompt_tokens", 0) or 0),
            "refused": bool(getattr(final, "refused", False)), "text": text, "answer": final}


def _summarise(results: list[dict[str, Any]]) -> dict[str, object]:
    ttft = [r["first_token_s"] for r in results]
    total = [r["total_s"] for r in results]
    tokens = [r["prompt_tokens"] for r in results if r["prompt_tokens"]]
    answerable = [r for r in results if not r["expected"].get("unanswerable")]
    unanswerable = [r for r in results if r["expected"].get("unanswerable")]

    def seconds(values: list[float], q: float) -> float | None:
        value = percentile(values, q)
        return None if value is None else round(value, 2)

    return {
        "ttft_p50_s": seconds(ttft, 50), "ttft_p95_s": seconds(ttft, 95),
        "total_p50_s": seconds(total, 50), "total_p95_s": seconds(total, 95),
        "prompt_tokens_mean": round(sum(tokens) / len(tokens), 1) if tokens else 0,
        "prompt_tokens_max": max(tokens) if tokens else 0, "generated": sum(r["streamed"] for r in results),
        # not the quality eval (that is `rag eval`): a check that speed did not come from answering less
        "facts_found": f"{sum(_has_facts(r) for r in answerable)}/{len(answerable)}",
        "refused_unanswerable": f"{sum(r['refused'] for r in unanswerable)}/{len(unanswerable)}",
        "per_question": [{k: r[k] for k in ("id", "first_token_s", "total_s", "prompt_tokens", "refused")}
                         for r in results],
    }


def _has_facts(result: dict[str, Any]) -> bool:
    """Every ``must`` item in the answer, by the eval's own rule ("400" does not match "4000")."""
    must = result["expected"].get("must", [])
    return not must or metrics.must_recall(result["text"], must) == 1.0


class NaivePipeline:
    """What a first llama-index RAG looks like: raw files, ~900-char chunks, dense top 4, default prompt."""

    def __init__(self, folder: Path | None, embed_model, chat, max_tokens: int,  # type: ignore[no-untyped-def]
                 documents: list | None = None) -> None:  # type: ignore[type-arg]
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        documents = documents if documents is not None else SimpleDirectoryReader(str(folder)).load_data()
        splitter = SentenceSplitter(chunk_size=NAIVE_CHUNK_TOKENS, chunk_overlap=20)
        nodes = splitter.get_nodes_from_documents(documents)
        self.mean_chunk_chars = round(sum(len(node.get_content()) for node in nodes) / len(nodes))
        self.index = VectorStoreIndex(nodes, embed_model=embed_model)
        self.retriever = self.index.as_retriever(similarity_top_k=NAIVE_TOP_K)
        self.chat = chat
        self.max_tokens = max_tokens

    @classmethod
    def from_texts(cls, texts: list[tuple[str, str]], embed_model, chat, max_tokens: int,  # type: ignore[no-untyped-def]
                   persist_dir: Path | None = None) -> NaivePipeline:
        """The same pipeline over (file name, article text) pairs, e.g. the bodies of ``.jsonl`` articles;
        with ``persist_dir`` its in-memory index is saved there and loaded next time (embedding 2,000
        articles takes minutes)."""
        from llama_index.core import Document, StorageContext, load_index_from_storage

        if persist_dir is not None and (persist_dir / "docstore.json").exists():
            pipeline = cls.__new__(cls)
            pipeline.index = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(persist_dir)),
                                                     embed_model=embed_model)
            pipeline.mean_chunk_chars = 0
            pipeline.retriever = pipeline.index.as_retriever(similarity_top_k=NAIVE_TOP_K)
            pipeline.chat, pipeline.max_tokens = chat, max_tokens
            return pipeline
        documents = [Document(text=text, metadata={"file_name": name}) for name, text in texts]
        pipeline = cls(None, embed_model, chat, max_tokens, documents=documents)
        if persist_dir is not None:
            pipeline.index.storage_context.persist(persist_dir=str(persist_dir))
        return pipeline

    def stream(self, item: dict) -> Iterator[Any]:  # type: ignore[type-arg]
        from llama_index.core.prompts.chat_prompts import CHAT_TEXT_QA_PROMPT

        question = item["question"]
        context = "\n\n".join(result.node.get_content() for result in self.retriever.retrieve(question))
        messages = [{"role": m.role.value, "content": m.content or ""}
                    for m in CHAT_TEXT_QA_PROMPT.format_messages(context_str=context, query_str=question)]
        usage = Usage()
        parts = []
        # As the engine does (``ChatClient.begin``): each question starts from the system prompt alone, so
        # neither pipeline reads an earlier question's passages from the server's cache.
        self.chat.begin(messages)
        for delta in self.chat.stream(messages, self.max_tokens, 0.0, usage):
            parts.append(delta)
            yield delta
        yield _NaiveAnswer("".join(parts), usage.prompt_tokens)


class _NaiveAnswer:
    def __init__(self, text: str, prompt_tokens: int) -> None:
        self.text, self.prompt_tokens, self.refused = text, prompt_tokens, False
