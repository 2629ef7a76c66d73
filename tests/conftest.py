"""Shared fixtures: isolated state per test, a network guard, a real `chroma run` server, a seeded index."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Settings

from eval.bench import server as bench_server
from eval.bench.server import free_port  # noqa: F401  (one copy, for the tests that import it from here)

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"

# The local model (1.1 GB assembled) is shared by every test run on this machine, like a user's cache.
os.environ.setdefault("RAG_MODEL_DIR", str(Path.home() / ".cache" / "news-rag" / "models"))


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a connection to a non-loopback address: everything here is offline."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):  # type: ignore[index]
            raise AssertionError(f"test tried to reach the network: {address!r}")

    def guarded_connect(sock: socket.socket, address: object) -> None:
        check(sock, address)
        return real_connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: object) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own index; nothing leaks from the user's ~/.local/share/news-rag."""
    data_dir = tmp_path / "rag-data"
    # The user's own settings (environment or a .env file) must not change what a test sees; only the
    # model cache stays where it is (assembling the model again would cost a minute per test run).
    for name in list(os.environ):
        if (name.startswith("RAG_") and name != "RAG_MODEL_DIR") or name.startswith("OPENAI_"):
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    return data_dir


def wait_for_http(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:  # type: ignore[type-arg]
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on a free loopback port (the benchmarks' launcher); yields its URL."""
    with bench_server.chroma_server(tmp_path_factory.mktemp("chroma-server") / "db") as url:
        yield url


@pytest.fixture(scope="session")
def seeded_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One embedded index of the bundled seeds, shared by read-only tests."""
    from rag import NewsRAG, Settings

    engine = NewsRAG(Settings(data_dir=tmp_path_factory.mktemp("seeded"), llm="extractive"))
    report = engine.ingest([SEEDS])
    assert len(report.added) == 5
    return engine


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bench", action="store_true", help="also run the reliability benchmarks (marker bench)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Benchmarks print figures and take minutes: they run with --bench, and are deselected (not
    skipped) otherwise, so the suite's count says what ran."""
    if config.getoption("--bench"):
        return
    chosen = [item for item in items if item.get_closest_marker("bench") is None]
    if len(chosen) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("bench")])
        items[:] = chosen
