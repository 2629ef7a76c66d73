"""Which embedding model finds the gold article: MiniLM (the default) against multilingual-e5-small.

MiniLM was trained on English only, so over an archive in another language dense search finds passages
mostly through shared names and numbers, and a question in one language cannot find an article in
another. ``RAG_EMBED_BACKEND=e5`` (multilingual-e5-small, offline like MiniLM) puts all languages in
one vector space. This measures what that buys and costs, with nothing tuned:

- the CNN archive (2,000 English articles) with news_dev and the four English holdouts;
- the Chinese archive (1,861 UHGEval articles) with news_zh's questions, and the same questions in
  English (``news_zh_en.jsonl``, written from news_zh before any search was run over it).

Recall of a gold article among the first 1, 4 (what the model reads) and 8 passages per search mode,
and each index's ingestion time. Usage: ``python -m eval.bench.embedders WORK OUT.json`` (an index
under WORK is reused when present; delete it to time the ingestion again).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from eval.bench.corpus import write_chinese_news
from eval.bench.news import retrieval_recall, write_archive
from eval.dataset import load_dataset

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "eval" / "datasets"
BACKENDS = ("minilm", "e5")
ARCHIVES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "cnn": (write_archive, ("news_dev", "news_holdout", "news_holdout2", "news_holdout3", "news_holdout4")),
    "zh": (lambda work: write_chinese_news(work, lines=2000), ("news_zh", "news_zh_en")),
}


def measure(work: Path, archive: str, backend: str) -> dict[str, object]:  # pragma: no cover - hours of CPU
    """Build (or reuse) one index and measure recall on each of the archive's question sets."""
    from rag import NewsRAG, Settings

    write, datasets = ARCHIVES[archive]
    folder = write(work)
    data_dir = work / f"index-{archive}-{backend}"
    timing = data_dir / "ingest.json"
    engine = NewsRAG(Settings(data_dir=data_dir, llm="extractive", chroma_url=None, embed_backend=backend))
    if not timing.exists():
        started = time.perf_counter()
        report = engine.ingest([folder])
        timing.write_text(json.dumps({"seconds": round(time.perf_counter() - started, 1),
                                      "articles": len(report.indexed),
                                      "chunks": engine.store.count_chunks()}))
    result: dict[str, object] = {"archive": archive, "backend": backend, "ingest": json.loads(timing.read_text())}
    result["recall"] = {name: retrieval_recall(engine, load_dataset(DATASETS / f"{name}.jsonl")) for name in datasets}
    return result


def table(results: Sequence[Mapping]) -> str:  # type: ignore[type-arg]
    """Markdown: one row per archive, question set and backend; recall@4 (what the model reads) per mode."""
    lines = ["| archive | questions | embedding | hybrid @1 / @4 / @8 | dense @4 | keyword @4 | ingestion |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for result in results:
        ingest = result["ingest"]
        for name, modes in result["recall"].items():
            hybrid = " / ".join(f"{modes['hybrid'][f'recall@{d}']:.2f}" for d in (1, 4, 8))
            lines.append(f"| {result['archive']} | {name} | {result['backend']} | {hybrid} | "
                         f"{modes['dense']['recall@4']:.2f} | {modes['keyword']['recall@4']:.2f} | "
                         f"{ingest['seconds']:.0f} s, {ingest['chunks']:,} chunks |")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:  # pragma: no cover - hours of CPU
    if len(argv) != 2:
        print(__doc__)
        return 2
    work, out = Path(argv[0]), Path(argv[1])
    results = [measure(work, archive, backend) for archive in ARCHIVES for backend in BACKENDS]
    out.write_text("".join(json.dumps(result) + "\n" for result in results), encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
