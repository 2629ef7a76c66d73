"""Concurrency: parallel client processes searching one ``chroma run`` server over loopback.

Each client is a separate process with its own ``NewsRAG`` (as the UI, the CLI and an eval run
would be): it embeds the query, asks the server for the dense candidates, searches its BM25 copy
and fuses. All clients load first, then start together and search for the same number of seconds.
One client alone, on the same server, is the reference.
"""

from __future__ import annotations

import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Manager, get_context
from pathlib import Path

from eval.bench import machine
from eval.bench.latency import ensure_index
from eval.bench.metrics import latency_summary
from eval.bench.server import chroma_server


def run(n: int, work: Path, clients: int = 8, seconds: float = 60.0, single_seconds: float = 15.0,
        k: int = 4) -> dict[str, object]:
    data_dir, queries = ensure_index(n, work)
    with chroma_server(data_dir / "chroma") as url:
        alone = clients_search(url, data_dir, queries, 1, single_seconds, k)
        together = clients_search(url, data_dir, queries, clients, seconds, k)
    return {"corpus": f"HaluEval CNN/DailyMail, first {n} articles", "articles": n, "k": k,
            "one_client": alone, "parallel": together}


def clients_search(url: str, data_dir: Path, queries: list[str], clients: int, seconds: float,
                   k: int) -> dict[str, object]:
    context = get_context("spawn")
    with Manager() as manager, ProcessPoolExecutor(max_workers=clients, mp_context=context) as pool:
        barrier = manager.Barrier(clients)
        futures = [pool.submit(_client, url, str(data_dir), queries, worker, clients, seconds, k, barrier)
                   for worker in range(clients)]
        load_before = machine.load()
        results = [future.result() for future in futures]
    latencies = [value for result in results for value in result["latencies"]]
    errors = sum(int(result["errors"]) for result in results)
    elapsed = max(float(result["elapsed"]) for result in results)
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(latencies), "errors": errors,
            "error_samples": [m for result in results for m in result["error_samples"]][:5],
            "throughput_qps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
            "latency": latency_summary(latencies),
            "client_peak_rss_mb": max(float(result["peak_rss_mb"]) for result in results),
            "load_before": load_before, "load_after": machine.load()}


def _client(url: str, data_dir: str, queries: list[str], worker: int, clients: int, seconds: float, k: int,
            barrier) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from rag import NewsRAG, Settings

    engine = NewsRAG(Settings(data_dir=Path(data_dir), chroma_url=url, llm="extractive"))
    engine.search(queries[worker % len(queries)], k)  # load the model and BM25 before the clock starts
    barrier.wait()
    latencies: list[float] = []
    errors, samples = 0, []
    started = time.perf_counter()
    deadline = started + seconds
    position = worker
    while time.perf_counter() < deadline:
        query = queries[position % len(queries)]
        position += clients
        began = time.perf_counter()
        try:
            engine.search(query, k)
        except Exception:  # noqa: BLE001 - every failure is counted and sampled, none may pass silently
            errors += 1
            if len(samples) < 3:
                samples.append(traceback.format_exc(limit=2))
            continue
        latencies.append(time.perf_counter() - began)
    return {"latencies": latencies, "errors": errors, "error_samples": samples,
            "elapsed": time.perf_counter() - started, "peak_rss_mb": machine.peak_rss_mb()}
