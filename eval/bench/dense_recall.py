"""Chroma's graph search against exact cosine search on a stored index (session 44).

    python -m eval.bench.dense_recall INDEX_DIR DATASET.jsonl

For each question: the exact 20 nearest passages (every vector of the index, in memory) against the 20
Chroma returns at the index's ``ef_search``; prints how many of the exact top 4 and top 20 it missed and
its milliseconds per query. Run it in a fresh process after changing ``ef_search``: a process that has
queried keeps the breadth it opened the index with.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from rag import NewsRAG, Settings
from rag.embedding import embed_texts


def main(index: str, dataset: str) -> dict[str, object]:
    engine = NewsRAG(Settings(data_dir=index))
    chunks = engine.store.chunks
    ids: list[str] = []
    blocks = []
    for offset in range(0, chunks.count(), 5000):
        page = chunks.get(include=["embeddings"], limit=5000, offset=offset)
        ids += page["ids"]
        blocks.append(np.asarray(page["embeddings"], dtype=np.float32))
    vectors = np.vstack(blocks)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    questions = [json.loads(line)["question"] for line in open(dataset, encoding="utf-8") if line.strip()]
    queries = embed_texts(engine.embed_model, questions)
    exact = [[ids[i] for i in np.argsort(-(vectors @ (q / np.linalg.norm(q))))[:20]] for q in queries]
    started = time.perf_counter()
    found = [chunks.query(query_embeddings=[q.tolist()], n_results=20, include=[])["ids"][0] for q in queries]
    seconds = (time.perf_counter() - started) / len(queries)
    return {"ef_search": (chunks.configuration or {}).get("hnsw", {}).get("ef_search"), "questions": len(questions),
            "chunks": len(ids), "ms_per_query": round(1000 * seconds, 2),
            "top4_missed": sum(len(set(e[:4]) - set(f[:4])) for e, f in zip(exact, found)),
            "top20_missed": sum(len(set(e) - set(f)) for e, f in zip(exact, found)), "of_top20": 20 * len(questions)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
