"""A `rag ingest` killed half-way leaves the index consistent, and the next run finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import chromadb

from rag import NewsRAG, Settings
from tests.conftest import REPO

TOWNS = ["Arles", "Brno", "Cork", "Delft", "Esbjerg", "Faro", "Graz", "Hue", "Izmir", "Jena"]


def write_corpus(folder: Path, count: int) -> None:
    folder.mkdir()
    for i in range(count):
        town = TOWNS[i % len(TOWNS)]
        body = " ".join(f"Council meeting {i} in {town} approved budget line {j} for roads and schools."
                        for j in range(12))
        (folder / f"story_{i:04d}.txt").write_text(f"{town} council story {i}\n\n{body}\n")


def test_kill_mid_ingestion_then_resume(tmp_path: Path, chroma_server: str) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 600)
    collection = f"killed{os.getpid()}"
    env = {**os.environ, "RAG_CHROMA_URL": chroma_server, "RAG_COLLECTION": collection,
           "RAG_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "rag", "ingest", str(corpus)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    client = chromadb.HttpClient(host="127.0.0.1", port=int(chroma_server.rsplit(":", 1)[1]))
    deadline = time.monotonic() + 240
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            stored = client.get_collection(collection + "-articles").count()
        except Exception:  # the collection does not exist yet
            stored = 0
        if stored:
            break
        time.sleep(0.05)
    assert process.poll() is None, f"ingestion ended before it could be killed: {process.stderr.read()!r}"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < stored < 600

    engine = NewsRAG(Settings(data_dir=tmp_path / "data", chroma_url=chroma_server, collection=collection))
    # Consistent after the kill: every article the registry lists is complete.
    for doc in engine.documents():
        assert len(engine.store.chunks.get(where={"doc_id": doc.doc_id})["ids"]) == doc.chunks

    report = engine.ingest([corpus])
    assert len(report.unchanged) >= stored
    assert len(report.added) + len(report.unchanged) == 600 and not report.skipped
    docs = engine.documents()
    assert len(docs) == 600
    assert engine.store.count_chunks() == sum(doc.chunks for doc in docs)  # no duplicate or orphan chunk
    hits = engine.search("Council meeting 599 budget", k=3)
    assert any(hit.source_name == "story_0599.txt" for hit in hits)
