"""Ingestion throughput: articles/s and chunks/s end to end, beside the embedding model alone.

End to end is one ``NewsRAG.ingest`` call into a fresh embedded index (load, clean, chunk, embed,
store, BM25), run in a child process so its peak memory is its own. The reference is the raw
throughput of the same embedding model on the same chunk texts (read back from the index), fed in
length-sorted batches: the physical limit of this CPU for this model.
"""

from __future__ import annotations

import random
import shutil
import sys
import time
from pathlib import Path

from eval.bench import machine
from eval.bench.corpus import write_news
from eval.bench.server import in_child

TARGET_RATIO = 0.70


def index_dir(work: Path, n: int) -> Path:
    return work / f"index-cnn-{n}"


def is_complete(data_dir: Path) -> bool:
    """True once a benchmark ingestion into ``data_dir`` finished (later benches re-use the index)."""
    return (data_dir / "bench_complete").exists()


def mark_complete(data_dir: Path) -> None:
    (data_dir / "bench_complete").write_text("ingestion finished\n")


def run(n: int, work: Path, raw_sample: int = 8000, fresh: bool = True) -> dict[str, object]:
    corpus = write_news(work, n)
    data_dir = index_dir(work, n)
    if fresh:
        shutil.rmtree(data_dir, ignore_errors=True)
    e2e = in_child(_ingest_in_child, str(corpus.path), str(data_dir))
    raw = raw_embedding(data_dir, raw_sample)
    chunks = int(e2e["chunks"])
    result: dict[str, object] = {
        "corpus": f"HaluEval CNN/DailyMail, first {corpus.articles} articles", "articles": corpus.articles,
        "chunks": chunks, "end_to_end": e2e, "raw_embedding": raw,
        "ratio": round(float(e2e["chunks_per_s"]) / float(raw["chunks_per_s"]), 3) if raw["chunks_per_s"] else None,
        # the same comparison in CPU time per chunk: less sensitive to other jobs on a shared machine
        "cpu_ratio": round(float(raw["cpu_ms_per_chunk"]) / float(e2e["cpu_ms_per_chunk"]), 3)
        if e2e["cpu_ms_per_chunk"] else None,
        "target_ratio": TARGET_RATIO,
        "index_mb": {"chroma": machine.disk_mb(data_dir / "chroma"), "bm25": machine.disk_mb(data_dir / "bm25")},
        "corpus_mb": machine.disk_mb(corpus.path),
    }
    return result


def _ingest_in_child(corpus: str, data_dir: str) -> dict[str, object]:
    """Runs in a fresh process: one ``ingest`` call, timed, with the BM25 rebuild timed apart."""
    from rag import NewsRAG, Settings

    engine = NewsRAG(Settings(data_dir=Path(data_dir), llm="extractive", chroma_url=None))
    bm25_seconds = [0.0]
    keyword = engine.keyword
    rebuild = keyword.rebuild

    def timed_rebuild(nodes):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        rebuild(nodes)
        bm25_seconds[0] += time.perf_counter() - started

    keyword.rebuild = timed_rebuild  # type: ignore[method-assign]
    started_at = time.perf_counter()

    def progress(done: int, total: int, name: str) -> None:
        if done % 10 == 0 or done == total:
            elapsed = time.perf_counter() - started_at
            print(f"  ingest: {done}/{total} files, {elapsed:.0f} s, load {machine.load()[0]}",
                  file=sys.stderr, flush=True)

    load_before = machine.load()
    cpu_before = machine.cpu_seconds()
    started = time.perf_counter()
    report = engine.ingest([Path(corpus)], progress=progress)
    seconds = time.perf_counter() - started
    cpu = machine.cpu_seconds() - cpu_before
    mark_complete(Path(data_dir))
    articles = len(report.added) + len(report.updated)
    return {
        "seconds": round(seconds, 2), "articles_per_s": round(articles / seconds, 2),
        "chunks": report.chunks_embedded, "chunks_per_s": round(report.chunks_embedded / seconds, 2),
        "cpu_seconds": round(cpu, 2), "cpu_ms_per_chunk": round(1000 * cpu / max(1, report.chunks_embedded), 2),
        "bm25_seconds": round(bm25_seconds[0], 2), "skipped": len(report.skipped),
        "peak_rss_mb": machine.peak_rss_mb(), "load_before": load_before, "load_after": machine.load(),
    }


def chunk_texts(data_dir: Path) -> list[str]:
    """Exactly what ingestion gave the embedding model: each stored chunk with its embedded metadata."""
    from llama_index.core.schema import MetadataMode

    from rag import NewsRAG, Settings

    engine = NewsRAG(Settings(data_dir=data_dir, llm="extractive", chroma_url=None))
    return [node.get_content(metadata_mode=MetadataMode.EMBED) for node in engine.store.iter_nodes()]


def raw_embedding(data_dir: Path, sample: int, batch: int = 64) -> dict[str, object]:
    """The model alone (tokenise, forward, pool) on a random sample of the stored chunk texts."""
    from rag import NewsRAG, Settings

    texts = chunk_texts(data_dir)
    if sample and len(texts) > sample:
        texts = random.Random(0).sample(texts, sample)
    model = NewsRAG(Settings(data_dir=data_dir, llm="extractive")).embed_model
    embed = getattr(model, "embed", None)
    if embed is None:  # another backend: its own batching is its limit
        def embed(batch_texts: list[str]) -> object:
            return model.get_text_embedding_batch(batch_texts)
    embed(texts[:batch])  # warm-up: the first run allocates the session's buffers
    ordered = sorted(texts, key=len)  # as little padding as the model can get
    load_before = machine.load()
    cpu_before = machine.cpu_seconds()
    started = time.perf_counter()
    for begin in range(0, len(ordered), batch):
        embed(ordered[begin:begin + batch])
    seconds = time.perf_counter() - started
    cpu = machine.cpu_seconds() - cpu_before
    return {"chunks": len(texts), "batch": batch, "seconds": round(seconds, 2),
            "chunks_per_s": round(len(texts) / seconds, 2) if seconds else 0.0,
            "cpu_seconds": round(cpu, 2), "cpu_ms_per_chunk": round(1000 * cpu / max(1, len(texts)), 2),
            "load_before": load_before, "load_after": machine.load()}
