"""The local model's threads on a shared host (``rag.cpu``): one per core other processes leave free.

On 2 cores with one kept busy by another process, llama.cpp answered in 71 s with both threads and 21 s
with one (idle: 11 s and 20 s), so a user on a busy host must not get every core by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cpu import LET_LLAMA_CHOOSE, CpuSample, busy_elsewhere, free_threads, physical_cores, sample, threads_for


def test_an_idle_host_lets_llama_cpp_choose_and_a_busy_one_gets_a_thread_per_free_core() -> None:
    assert threads_for(cores=2, busy_cpus=0.3) == LET_LLAMA_CHOOSE  # a shell, a browser tab: not a reason
    assert threads_for(cores=2, busy_cpus=0.6) == LET_LLAMA_CHOOSE  # a spike: the choice lasts the process
    assert threads_for(cores=4, busy_cpus=0.1, pinned=True) == 4  # llama.cpp would count the host's cores
    assert threads_for(cores=2, busy_cpus=1.0) == 1
    assert threads_for(cores=8, busy_cpus=2.6) == 6  # the third core only 0.6 busy
    assert threads_for(cores=8, busy_cpus=2.8) == 5
    assert threads_for(cores=2, busy_cpus=2.0) == 1  # never none: the model still answers, slowly


def test_this_processs_own_work_does_not_count_as_another_processs() -> None:
    """An ingestion's embedding threads in the same process are idle by the time the model loads, but
    their ticks in the window are not someone else's."""
    before = CpuSample(busy=1000, total=5000, own=100)
    ours = CpuSample(busy=1000 + 100, total=5000 + 100, own=100 + 100)  # 2 CPUs, 0.5 s: 100 ticks, all ours
    assert busy_elsewhere(before, ours, cpus=2) == 0.0
    theirs = CpuSample(busy=1000 + 50, total=5000 + 100, own=100)  # half of all ticks someone else's
    assert busy_elsewhere(before, theirs, cpus=2) == pytest.approx(1.0)
    assert busy_elsewhere(before, before, cpus=2) == 0.0  # no time passed: nothing known, nothing taken


def test_only_the_cpus_this_process_may_use_are_read(tmp_path: Path) -> None:
    """A container pinned to CPUs 0-1 of a host whose CPU 2 is saturated is not busy."""
    (tmp_path / "self").mkdir()
    (tmp_path / "stat").write_text("cpu  300 0 0 300 0 0 0 0 0 0\n"
                                   "cpu0 10 0 0 90 0 0 0 0 0 0\ncpu1 10 0 0 90 0 0 0 0 0 0\n"
                                   "cpu2 100 0 0 0 0 0 0 0 0 0\nintr 1 2 3\n")
    (tmp_path / "self" / "stat").write_text("42 (python3 (a name) with spaces) S 1 2 3 4 5 6 7 8 9 10 7 3 0 0\n")
    assert sample({0, 1}, proc=tmp_path) == CpuSample(busy=20, total=200, own=10)
    assert sample({0, 1}, proc=tmp_path / "missing") is None  # not Linux: llama.cpp chooses


def test_hyperthreads_of_one_core_count_once(tmp_path: Path) -> None:
    for cpu, core in [(0, 0), (1, 0), (2, 1), (3, 1)]:
        topology = tmp_path / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text("0\n")
        (topology / "core_id").write_text(f"{core}\n")
    assert physical_cores({0, 1, 2, 3}, sysfs=tmp_path) == 2
    assert physical_cores({0, 1}, sysfs=tmp_path / "missing") == 2  # unreadable: every CPU a core


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc (Linux)")
def test_a_process_spinning_on_a_core_takes_that_core_from_the_model() -> None:
    """Real: another process keeping a CPU busy is seen, and the model is given the cores left over."""
    cores = physical_cores(os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1)))
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        threads = free_threads(seconds=1.0)
    finally:
        spinner.kill()
        spinner.wait()
    assert threads != LET_LLAMA_CHOOSE and threads <= max(1, cores - 1)
