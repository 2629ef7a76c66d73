"""Pure arithmetic of the benchmarks: latency percentiles and ranking quality."""

from __future__ import annotations

from collections.abc import Sequence

from eval.metrics import percentile  # one implementation for the eval report and the benchmarks


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """p50/p95/mean/max in milliseconds, and how many measurements."""
    ms = [s * 1000 for s in seconds]

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {"n": len(ms), "p50_ms": rounded(percentile(ms, 50)), "p95_ms": rounded(percentile(ms, 95)),
            "mean_ms": rounded(sum(ms) / len(ms)) if ms else None, "max_ms": rounded(max(ms)) if ms else None}


def first_relevant_rank(ranked: Sequence[str], gold: set[str] | frozenset[str]) -> int | None:
    """1-based rank of the first id in ``gold``, None if absent."""
    for rank, item in enumerate(ranked, start=1):
        if item in gold:
            return rank
    return None


def ranking_quality(ranks: Sequence[int | None], cutoffs: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """recall@k (share of questions whose gold is in the top k) and MRR over the top max(cutoffs)."""
    if not ranks:
        raise ValueError("no questions to score")
    depth = max(cutoffs)
    scores = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / len(ranks) for k in cutoffs}
    scores["mrr"] = sum(1 / r for r in ranks if r is not None and r <= depth) / len(ranks)
    return {key: round(value, 4) for key, value in scores.items()}
