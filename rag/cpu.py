"""Threads for the local model: one per physical core that other processes leave free when it loads.

llama.cpp's threads meet at a barrier at every step of every token, so a thread that shares its core with
another busy process holds all the others back. Measured on 2 cores (4 seed questions, median seconds per
answer, session 32, ``rag bench threads``): idle, 10.8-11.1 s with 2 threads and 20.5 s with 1; with one
core kept busy by another process (``yes``), 71.1 s with 2 threads and 20.4 s with 1. llama.cpp's own
remedy for contention, less busy-waiting (``poll`` 0 instead of 50), changed nothing (72.1 s; the runs:
``eval/bench/results/threads/poll_and_threads_session32.jsonl``, ``auto`` rows this default). So
``RAG_LOCAL_THREADS=0`` (the default) samples the CPU for half a second before the model loads: when
other processes keep cores busy, the model gets one thread per core they leave free; otherwise llama.cpp
chooses (one per core), as before. The embedding model needs no such care: ONNX Runtime loses little
to a shared core (MiniLM, 600 passages: 17.4 passages/s with 2 threads and 18.3 with 1 under the same
load, 30.4 and 18.2 idle), so its threads stay ONNX Runtime's choice.

The decision is made when the model loads, and made again between answers (``LoadWatch``): a process
that serves for hours (``rag ui``, ``rag serve``) would otherwise keep one thread after a busy start, or
keep two while an ingestion in another process holds a core. Set ``RAG_LOCAL_THREADS`` to fix the number.
Linux only (``/proc``); elsewhere llama.cpp chooses. The arithmetic is pure (``busy_elsewhere``,
``threads_for``, ``LoadWatch.decide``); ``sample``, ``free_threads`` and ``LoadWatch.look`` read ``/proc``.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 0.5  # long enough for ~100 clock ticks on 2 cores, short beside the model's ~3 s load
LET_LLAMA_CHOOSE = 0


@dataclass(frozen=True)
class CpuSample:
    """Cumulative clock ticks: every CPU's busy and total time (``/proc/stat``), and this process's own."""

    busy: int
    total: int
    own: int


def busy_elsewhere(before: CpuSample, after: CpuSample, cpus: int) -> float:
    """How many CPUs other processes kept busy between two samples (this process's time taken out: the
    embedding threads of an ingestion in the same process are not a reason to give the model fewer)."""
    elapsed = after.total - before.total
    if elapsed <= 0:
        return 0.0
    others = (after.busy - before.busy) - (after.own - before.own)
    return max(0.0, others / elapsed * cpus)


def threads_for(cores: int, busy_cpus: float, pinned: bool = False) -> int:
    """One thread per core other processes leave free, at least one. A core counts as taken from 0.75 of
    a CPU busy: the choice lasts as long as the process, so a brief spike should not halve it. On a host
    they leave idle, ``LET_LLAMA_CHOOSE``, unless this process is ``pinned`` to fewer CPUs than the host
    has: llama.cpp counts the host's cores, not the ones it may run on, and would oversubscribe them."""
    taken = int(busy_cpus + 0.25)
    if taken == 0:
        return cores if pinned else LET_LLAMA_CHOOSE
    return max(1, cores - taken)


def sample(cpus: set[int], proc: Path = Path("/proc")) -> CpuSample | None:
    """Clock ticks so far of the CPUs this process may run on (their ``cpuN`` lines: a container pinned to
    two CPUs of a large host is not judged by the host's other CPUs) and of this process; None where
    ``/proc`` cannot be read."""
    busy = total = 0
    try:
        for line in (proc / "stat").read_text().splitlines():
            name, *fields = line.split()
            if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
                continue
            ticks = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
            busy, total = busy + sum(ticks) - ticks[3] - ticks[4], total + sum(ticks)
        own = (proc / "self" / "stat").read_text().rsplit(")", 1)[1].split()
        own_ticks = int(own[11]) + int(own[12])  # utime, stime: every thread of this process
    except (OSError, IndexError, ValueError):
        return None
    return CpuSample(busy=busy, total=total, own=own_ticks) if total else None


def physical_cores(cpus: set[int], sysfs: Path = Path("/sys/devices/system/cpu")) -> int:
    """Distinct physical cores among ``cpus`` (two hyperthreads of one core count once)."""
    cores = set()
    for cpu in cpus:
        topology = sysfs / f"cpu{cpu}" / "topology"
        try:
            cores.add(((topology / "physical_package_id").read_text().strip(),
                       (topology / "core_id").read_text().strip()))
        except OSError:
            return len(cpus)
    return len(cores) or len(cpus)


def usable_cpus() -> set[int]:
    """The CPUs this process may run on."""
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))


def free_threads(seconds: float = SAMPLE_SECONDS) -> int:
    """Threads for llama.cpp now: ``LET_LLAMA_CHOOSE`` when the host is otherwise idle or cannot be read."""
    watch = LoadWatch()
    time.sleep(seconds)
    busy = watch.busy()
    if busy is None:
        return LET_LLAMA_CHOOSE
    threads = watch.threads_for(busy)
    if busy >= 0.75:
        log.warning("Other processes keep %.1f of %d CPUs busy: the local model gets %d thread(s), one per free "
                    "core (llama.cpp's threads wait for each other, so a shared core slows them all). "
                    "Set RAG_LOCAL_THREADS to choose.", busy, len(watch.cpus), threads)
    return threads

MIN_LOOK_SECONDS = 5.0  # a look at the load spans at least this long: a second's spike is not a reason to reload
LOOKS_TO_AGREE = 2  # consecutive looks that must want the same other count before the model reloads (~2.5 s)


class LoadWatch:
    """Other processes' load between answers, for a model server that lives for hours.

    Each ``look`` covers the time since the previous one, answers included: while the model answers, the
    other processes' share of the CPUs is what they take from it. A reload costs ~2.5 s on 2 cores (the
    file is in the page cache), so the count changes only when ``LOOKS_TO_AGREE`` looks in a row, each at
    least ``MIN_LOOK_SECONDS`` long, want the same other count (``decide``)."""

    def __init__(self, cpus: set[int] | None = None) -> None:
        self.cpus = cpus if cpus is not None else usable_cpus()
        self.cores = physical_cores(self.cpus)
        self.pinned = len(self.cpus) < (os.cpu_count() or len(self.cpus))
        self._last, self._at = sample(self.cpus), time.monotonic()
        self._wanted: list[int] = []

    def busy(self) -> float | None:
        """CPUs other processes kept busy since the last sample, which this one replaces; None where
        ``/proc`` cannot be read."""
        now = sample(self.cpus)
        if self._last is None or now is None:
            return None
        busy = busy_elsewhere(self._last, now, len(self.cpus))
        self._last, self._at = now, time.monotonic()
        return busy

    def threads_for(self, busy: float) -> int:
        """``threads_for`` on this process's cores."""
        return threads_for(self.cores, busy, self.pinned)

    def look(self) -> int | None:
        """The thread count the load since the last look asks for, once enough looks agree; else None."""
        if time.monotonic() - self._at < MIN_LOOK_SECONDS:
            return None
        busy = self.busy()
        return None if busy is None else self.decide(self.threads_for(busy))

    def decide(self, wanted: int) -> int | None:
        """Record one look's count; return it when the last ``LOOKS_TO_AGREE`` looks all wanted it."""
        self._wanted = [*self._wanted, wanted][-LOOKS_TO_AGREE:]
        agreed = len(self._wanted) == LOOKS_TO_AGREE and len(set(self._wanted)) == 1
        return wanted if agreed else None
