"""The local model's threads on a shared host (``rag.cpu``): one per core other processes leave free.

On 2 cores with one kept busy by another process, llama.cpp answered in 71 s with both threads and 21 s
with one (idle: 11 s and 20 s), so a user on a busy host must not get every core by default."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag import cpu
from rag.cpu import (LET_LLAMA_CHOOSE, CpuSample, LoadWatch, busy_elsewhere, free_threads, physical_cores, sample,
                     threads_for)


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


def test_a_long_running_server_changes_its_threads_only_when_the_load_has_changed_for_a_while() -> None:
    """One look that wants another count (a pip install's burst) reloads nothing; two in a row do."""
    watch = LoadWatch(cpus={0})
    assert watch.decide(1) is None  # the first look after a change: not yet
    assert watch.decide(1) == 1  # confirmed
    assert watch.decide(LET_LLAMA_CHOOSE) is None
    assert watch.decide(1) is None  # the load went back before the second look: nothing to do
    assert watch.decide(LET_LLAMA_CHOOSE) is None
    assert watch.decide(LET_LLAMA_CHOOSE) == LET_LLAMA_CHOOSE


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc (Linux)")
def test_looks_closer_together_than_the_minimum_decide_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    watch = LoadWatch()
    assert watch.look() is None  # just created: no time has passed
    monkeypatch.setattr(cpu, "MIN_LOOK_SECONDS", 0.0)
    # The host's load over two back-to-back looks is a tick or two and can read as anything (a CI run
    # failed on it), so the load is held still here: this test is about the timing gate, not /proc.
    monkeypatch.setattr(watch, "busy", lambda: 0.0)
    assert watch.look() is None and watch.look() == watch.threads_for(0.0)  # two looks agree


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc (Linux)")
def test_a_served_model_gives_up_a_core_another_process_takes_and_keeps_its_url(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Real: the model loads with every core; another process then spins on one; between answers the
    server reloads with the cores left over, on the same port, and a client made before still answers."""
    from rag.generation import ChatClient
    from rag.model_files import ensure_model
    from rag import model_server

    monkeypatch.setattr(cpu, "MIN_LOOK_SECONDS", 1.0)
    monkeypatch.setattr(model_server, "free_threads", lambda: LET_LLAMA_CHOOSE)  # whatever the host does now
    cores = physical_cores(os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1)))
    with model_server.LocalModelServer(ensure_model(Path(os.environ["RAG_MODEL_DIR"])), context=512) as server:
        url = server.base_url
        client = ChatClient("local", server.model_name, url, "local", 60, takes_grammar=True)
        client.server = server
        assert server.threads == -1 and not server.refit_threads()  # too soon to tell
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            reloaded = []
            for _ in range(2):
                time.sleep(1.2)
                reloaded.append(server.refit_threads())
        finally:
            spinner.kill()
            spinner.wait()
        assert reloaded == [False, True]  # the first busy look waits for the second
        assert 1 <= (client.threads or 0) <= max(1, cores - 1) and server.base_url == url
        reply = client.complete([{"role": "user", "content": "Say yes."}], 3)
        assert reply.choices[0].message.content


def test_a_client_follows_its_local_server_to_another_port() -> None:
    """The reload binds its old port again; if another process took it, clients move with the server."""
    from types import SimpleNamespace

    from rag.generation import ChatClient

    client = ChatClient("local", "m", "http://127.0.0.1:1/v1", "local", 5)
    client.server = SimpleNamespace(running=True, base_url="http://127.0.0.1:2/v1", threads=1)  # type: ignore[assignment]
    assert str(client._openai().base_url).rstrip("/") == "http://127.0.0.1:2/v1" and client.threads == 1
