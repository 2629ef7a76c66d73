"""Query latency on the CNN/DailyMail index: embedded Chroma beside a ``chroma run`` server.

The index is the one ``rag bench ingest`` built (built here if missing). Queries are the first
sentence of each article's reference summary, i.e. what someone looking for that story would type.
Each store is measured in its own fresh process: the first query (cold: model and BM25 load), then
every query in each search mode, warmed up.
"""

from __future__ import annotations

import time
from pathlib import Path

from eval.bench import machine
from eval.bench.corpus import write_news
from eval.bench.ingest import index_dir, is_complete, mark_complete
from eval.bench.metrics import latency_summary
from eval.bench.server import chroma_server, in_child

TARGET_P95_MS = 50.0
MODES = ("hybrid", "dense", "keyword")


def ensure_index(n: int, work: Path) -> tuple[Path, list[str]]:
    """The CNN index of ``n`` articles (ingested now if absent or incomplete) and its queries."""
    corpus = write_news(work, n)
    data_dir = index_dir(work, n)
    if not is_complete(data_dir):
        in_child(_ingest, str(corpus.path), str(data_dir))
    return data_dir, corpus.queries


def _ingest(corpus: str, data_dir: str) -> None:
    from rag import NewsRAG, Settings

    NewsRAG(Settings(data_dir=Path(data_dir), llm="extractive", chroma_url=None)).ingest([Path(corpus)])
    mark_complete(Path(data_dir))


def run(n: int, work: Path, queries: int = 200, k: int = 4) -> dict[str, object]:
    data_dir, all_queries = ensure_index(n, work)
    chosen = all_queries[:queries]
    embedded = in_child(measure, str(data_dir), None, chosen, k)
    with chroma_server(data_dir / "chroma") as url:
        server = in_child(measure, str(data_dir), url, chosen, k)
    return {"corpus": f"HaluEval CNN/DailyMail, first {n} articles", "articles": n, "k": k,
            "target_p95_ms": TARGET_P95_MS, "embedded": embedded, "server": server}


def measure(data_dir: str, chroma_url: str | None, queries: list[str], k: int) -> dict[str, object]:
    """Latency of ``NewsRAG.search`` per mode, plus its parts (query embedding) for diagnosis."""
    from rag import NewsRAG, Settings

    engine = NewsRAG(Settings(data_dir=Path(data_dir), chroma_url=chroma_url, llm="extractive"))
    load_before = machine.load()
    started = time.perf_counter()
    engine.search(queries[0], k)
    cold = time.perf_counter() - started
    for query in queries[1:6]:
        engine.search(query, k)
    out: dict[str, object] = {"store": "server" if chroma_url else "embedded", "chunks": engine.store.count_chunks(),
                              "first_query_ms": round(cold * 1000, 1)}
    for mode in MODES:
        seconds = []
        for query in queries:
            started = time.perf_counter()
            engine.search(query, k, mode=mode)  # type: ignore[arg-type]
            seconds.append(time.perf_counter() - started)
        out[mode] = latency_summary(seconds)
    seconds = []
    for query in queries:
        started = time.perf_counter()
        engine.embed_model.get_query_embedding(query)
        seconds.append(time.perf_counter() - started)
    out["query_embedding"] = latency_summary(seconds)
    out.update(load_before=load_before, load_after=machine.load(), peak_rss_mb=machine.peak_rss_mb())
    return out
