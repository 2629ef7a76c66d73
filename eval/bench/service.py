"""The HTTP API (``rag serve``) over a news archive: its cost beside the engine, and a soak.

- ``run``: ``POST /v1/ask`` beside ``NewsRAG.ask`` in process, at 1 and 8 clients. One engine on one
  index (the extractive backend: no model, so what is measured is retrieval, the answer check and the
  HTTP layer) serves both: first it is called directly from client threads, then through
  ``rag.service`` on a loopback uvicorn server in this process, asked by httpx from the same number of
  threads. The difference is the overhead of the API (JSON, HTTP, the answer queue).
- ``soak``: clients streaming ``/v1/chat/completions`` for a while, first on the extractive backend
  (8 clients), then on the local model (4 clients queueing for its one slot): answers, errors, latency
  as the client sees it (queueing included), and the most answers ``/healthz`` saw running and queued
  at once (never more running than the slots).

The index (``prepare``) is a folder of articles (the bundled seeds by default) or the first ``n``
HaluEval CNN/DailyMail articles, the same index ``rag bench answer|latency --n n`` use. At most
``NEWS_LIMIT`` = 5,000 of those: lines 5000-6999 of the file are reserved for held-out checks, and a
JSON-lines file is read in order, so the 3,000 articles after them cannot be reached without reading
them. Questions come from a JSON-lines file with a ``question`` field (``eval/datasets/news_dev.jsonl``
is written for the first 2,000 articles), or from the corpus: the seeds' own questions, or the first
sentence of each CNN article's reference summary.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eval.bench import machine
from eval.bench.metrics import latency_summary
from eval.bench.corpus import NEWS_ARTICLES

if TYPE_CHECKING:
    from rag import NewsRAG

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
NEWS_LIMIT = NEWS_ARTICLES  # the first 5,000 CNN/DailyMail articles: the reserved lines come next
SEEDS_QUESTIONS = (
    "How much has the US government contributed to Ukraine's war effort?",
    "Where did Trump and Zelensky meet?",
    "Who won the 1998 World Cup final?",
    "What did the article say about interest rates?",
)
HEALTH_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Target:
    """What the benchmark asks: an index ready to open, and questions that fit it."""

    corpus: str  # how the figures name it
    data_dir: Path
    questions: list[str]


def prepare(work: Path, corpus: Path | None = None, news: int | None = None,
            questions: Path | None = None) -> Target:
    """Index ``corpus`` (default: the seeds) or the first ``news`` CNN/DailyMail articles under ``work``
    (re-used when already there), and choose its questions."""
    if news is not None:
        from eval.bench.latency import ensure_index

        if not 1 <= news <= NEWS_LIMIT:
            raise ValueError(f"--news must be from 1 to {NEWS_LIMIT:,}: lines {NEWS_LIMIT}-6999 "
                             "of the HaluEval CNN/DailyMail file are reserved for held-out checks")
        data_dir, derived = ensure_index(news, work)  # ingested in a child process, if not done before
        label = f"HaluEval CNN/DailyMail, first {news:,} articles"
    else:
        from rag import NewsRAG, Settings

        folder = (corpus or SEEDS).resolve()
        data_dir = work / f"service-index-{folder.name}"  # one index per corpus: never a mix of two
        NewsRAG(Settings(data_dir=data_dir, llm="extractive", chroma_url=None)).ingest([folder])
        label, derived = str(folder), list(SEEDS_QUESTIONS) if folder == SEEDS.resolve() else []
    chosen = load_questions(questions) if questions is not None else derived
    if not chosen:
        raise ValueError(f"no questions for {label}: pass --questions FILE (JSON lines with a `question` field)")
    return Target(label, data_dir, chosen)


def load_questions(path: Path) -> list[str]:
    """The ``question`` of every line of a JSON-lines file (an ``rag eval`` dataset qualifies)."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        question = json.loads(line).get("question")
        if not isinstance(question, str) or not question.strip():
            raise ValueError(f"{path}:{number}: no `question` text")
        found.append(question.strip())
    return found


def open_engine(target: Target, llm: str) -> NewsRAG:
    """An engine on the target's index, warmed up (models, the keyword index) before any clock starts."""
    from rag import NewsRAG, Settings

    engine = NewsRAG(Settings(data_dir=target.data_dir, llm=llm, chroma_url=None, answer_cache=0))
    warm = engine.ask(target.questions[0])
    if warm.error:
        raise RuntimeError(f"the {llm} backend cannot answer: {warm.error}")
    return engine


# --- the API's cost ---------------------------------------------------------------------------------
def run(target: Target, seconds: float = 10.0, clients: Sequence[int] = (1, 8)) -> dict[str, object]:
    """Time both paths at each client count."""
    import httpx

    from rag.service import build_service, serve_in_thread

    engine = open_engine(target, "extractive")
    rows: list[dict[str, object]] = []
    api = build_service(engine)
    with serve_in_thread(api) as url:
        for n in clients:
            rows.append({"path": "in process", **measure(lambda q: engine.ask(q), target.questions, n, seconds)})

            def over_http(question: str, local: threading.local = threading.local()) -> None:
                if not hasattr(local, "client"):
                    local.client = httpx.Client(base_url=url, timeout=120)
                response = local.client.post("/v1/ask", json={"question": question})
                response.raise_for_status()

            rows.append({"path": "POST /v1/ask", **measure(over_http, target.questions, n, seconds)})
    return {"corpus": target.corpus, "articles": _articles(engine), "questions": len(target.questions),
            "backend": "extractive", "answer_slots": api.state.slots.slots, "rows": rows}


# --- the soak ---------------------------------------------------------------------------------------
def soak(target: Target, seconds: float = 30.0, clients: int = 8, local_clients: int = 4,
         local_seconds: float = 60.0) -> dict[str, object]:
    """Streaming clients on the extractive backend, then (``local_clients`` > 0) on the local model.

    Clients start no new question after ``seconds``; the answers under way finish (with the local model
    and one slot, that is up to ``local_clients`` answers more)."""
    phases = [soak_phase(target, "extractive", clients, seconds, timeout=120)]
    if local_clients:
        phases.append(soak_phase(target, "local", local_clients, local_seconds, timeout=1800))
    return {"corpus": target.corpus, "questions": len(target.questions), "phases": phases}


def soak_phase(target: Target, llm: str, clients: int, seconds: float, timeout: float) -> dict[str, object]:
    from rag.service import build_service, serve_in_thread

    engine = open_engine(target, llm)
    api = build_service(engine)
    with serve_in_thread(api) as url, watch_health(url) as busiest:
        figures = measure(streamed_chat(url, timeout), target.questions, clients, seconds)
    return {"backend": llm, "answer_slots": api.state.slots.slots, **figures, **busiest}


def streamed_chat(url: str, timeout: float) -> Callable[[str], None]:
    """One streamed ``/v1/chat/completions`` with the official client; an error event or an empty
    answer raises (and is counted)."""
    import openai

    local = threading.local()

    def ask(question: str) -> None:
        if not hasattr(local, "client"):
            local.client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=timeout)
        stream = local.client.chat.completions.create(model="news-rag", stream=True,
                                                      messages=[{"role": "user", "content": question}])
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        if not text.strip():
            raise RuntimeError("empty answer")

    return ask


@contextmanager
def watch_health(url: str) -> Iterator[dict[str, int]]:
    """Polls ``/healthz`` meanwhile; the dict holds the most answers seen running and queued at once."""
    import httpx

    busiest = {"most_answering": 0, "most_queued": 0, "health_errors": 0}
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            while not done.wait(HEALTH_POLL_SECONDS):
                try:
                    health = client.get("/healthz").json()
                except Exception:  # noqa: BLE001  (counted: /healthz must answer under load)
                    busiest["health_errors"] += 1
                    continue
                busiest["most_answering"] = max(busiest["most_answering"], int(health["answering"]))
                busiest["most_queued"] = max(busiest["most_queued"], int(health["queued"]))

    poller = threading.Thread(target=poll, daemon=True, name="healthz")
    poller.start()
    try:
        yield busiest
    finally:
        done.set()
        poller.join(timeout=15)


# --- shared ----------------------------------------------------------------------------------------
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
            n += clients  # the clients take turns through the questions: each is asked before any repeats

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
            "error_samples": errors[:3], "throughput_qps": round(len(latencies) / elapsed, 2),
            "latency": latency_summary(latencies), "load_before": load_before, "load_after": machine.load()}


def _articles(engine: NewsRAG) -> int:
    """Articles indexed (a ``.jsonl`` file holds many: each line is one)."""
    return len(engine.documents())


def markdown(figures: dict[str, object]) -> str:
    """The table ``rag bench service`` prints."""
    lines = [f"**HTTP API overhead**: {figures['articles']:,} articles ({figures['corpus']}), "
             f"{figures['questions']} questions, extractive backend, {figures['answer_slots']} answer slots, "
             f"{_load(figures['rows'])}.", "",
             "| path | clients | seconds | answers | answers/s | p50 ms | p95 ms | errors |",
             "|---|---|---|---|---|---|---|---|"]
    for row in figures["rows"]:  # type: ignore[attr-defined]
        lat = row["latency"]
        lines.append(f"| {row['path']} | {row['clients']} | {row['seconds']} | {row['requests']} | "
                     f"{row['throughput_qps']} | {lat['p50_ms']} | {lat['p95_ms']} | {row['errors']} |")
    return "\n".join(lines)


def soak_markdown(figures: dict[str, object]) -> str:
    """The soak table: streamed chat completions, one row per backend."""
    lines = [f"**Soak** of `/v1/chat/completions` (streamed) on {figures['corpus']}, {figures['questions']} "
             f"questions, {_load(figures['phases'])}; latency includes the wait for a slot.", "",
             "| backend | clients | slots | seconds | answers | errors | p50 s | p95 s | max s "
             "| most answering | most queued |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for phase in figures["phases"]:  # type: ignore[attr-defined]
        lat = phase["latency"]
        lines.append(f"| {phase['backend']} | {phase['clients']} | {phase['answer_slots']} | {phase['seconds']} | "
                     f"{phase['requests']} | {phase['errors']} | {_s(lat['p50_ms'])} | {_s(lat['p95_ms'])} | "
                     f"{_s(lat['max_ms'])} | {phase['most_answering']} | {phase['most_queued']} |")
    samples = [s for phase in figures["phases"] for s in phase["error_samples"]]  # type: ignore[attr-defined]
    return "\n".join(lines + ([f"\nErrors, e.g.: {'; '.join(samples)}"] if samples else []))


def _load(rows: object) -> str:
    """The 1-minute load average over the measurements (2.0 = both cores of this machine busy)."""
    loads = [row[key][0] for row in rows for key in ("load_before", "load_after")]  # type: ignore[attr-defined]
    return f"load {min(loads):.1f}-{max(loads):.1f}" if loads else "load unknown"


def _s(ms: float | None) -> str:
    return "–" if ms is None else f"{ms / 1000:.2f}"
