"""The HTTP layer's cost: ``POST /v1/ask`` beside ``NewsRAG.ask`` in process, at 1 and 8 clients.

One engine on one index (the extractive backend: no model, so what is measured is retrieval, the
answer check and the HTTP layer) serves both: first it is called directly from client threads, then
through ``rag.service`` on a loopback uvicorn server in this process, asked by httpx from the same
number of threads. The difference is the overhead of the API (JSON, HTTP, the answer queue).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from eval.bench import machine
from eval.bench.metrics import latency_summary

SEEDS_QUESTIONS = (
    "How much has the US government contributed to Ukraine's war effort?",
    "Where did Trump and Zelensky meet?",
    "Who won the 1998 World Cup final?",
    "What did the article say about interest rates?",
)


def run(corpus: Path, work: Path, seconds: float = 10.0, clients: Sequence[int] = (1, 8),
        questions: Sequence[str] = SEEDS_QUESTIONS) -> dict[str, object]:
    """Index ``corpus`` once into ``work``, then time both paths at each client count."""
    import httpx

    from rag import NewsRAG, Settings
    from rag.service import build_service, serve_in_thread

    engine = NewsRAG(Settings(data_dir=work / "service-index", llm="extractive"))
    engine.ingest([corpus])
    engine.ask(questions[0])  # models and the keyword index load before the clock starts
    rows: list[dict[str, object]] = []
    with serve_in_thread(build_service(engine)) as url:
        for n in clients:
            rows.append({"path": "in process", **measure(lambda q: engine.ask(q), questions, n, seconds)})

            def over_http(question: str, local: threading.local = threading.local()) -> None:
                if not hasattr(local, "client"):
                    local.client = httpx.Client(base_url=url, timeout=120)
                response = local.client.post("/v1/ask", json={"question": question})
                response.raise_for_status()

            rows.append({"path": "POST /v1/ask", **measure(over_http, questions, n, seconds)})
    return {"corpus": str(corpus), "articles": len(engine.documents()), "backend": "extractive",
            "answer_slots": engine.settings.api_parallel, "rows": rows}


def measure(call: Callable[[str], object], questions: Sequence[str], clients: int,
            seconds: float) -> dict[str, object]:
    """``clients`` threads calling ``call`` in a loop for ``seconds``: throughput, latency, errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline: list[float] = []

    def client(worker: int) -> None:
        start.wait()
        n = worker
        while time.monotonic() < deadline[0]:
            began = time.perf_counter()
            try:
                call(questions[n % len(questions)])
                with lock:
                    latencies.append(time.perf_counter() - began)
            except Exception as exc:  # noqa: BLE001  (counted and sampled in the figures)
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
            n += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    load_before = machine.load()
    began = time.monotonic()
    deadline.append(began + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(latencies), "errors": len(errors),
            "error_samples": errors[:3], "throughput_qps": round(len(latencies) / elapsed, 1),
            "latency": latency_summary(latencies), "load_before": load_before, "load_after": machine.load()}


def markdown(figures: dict[str, object]) -> str:
    """The table ``rag bench service`` prints."""
    lines = [f"**HTTP API overhead**: {figures['articles']} articles ({figures['corpus']}), extractive backend, "
             f"{figures['answer_slots']} answer slots.", "",
             "| path | clients | seconds | answers | answers/s | p50 ms | p95 ms | errors |",
             "|---|---|---|---|---|---|---|---|"]
    for row in figures["rows"]:  # type: ignore[attr-defined]
        lat = row["latency"]
        lines.append(f"| {row['path']} | {row['clients']} | {row['seconds']} | {row['requests']} | "
                     f"{row['throughput_qps']} | {lat['p50_ms']} | {lat['p95_ms']} | {row['errors']} |")
    return "\n".join(lines)
