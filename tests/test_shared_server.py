"""One `chroma run` server shared at the same time by the UI, a `rag ingest` and a `rag eval` run:
no process errors, none serves a stale index, and the eval never touches the shared collection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rag import NewsRAG, Settings
from rag.uploads import save_uploads, upload_dir
from tests.conftest import SEEDS

REPO = Path(__file__).resolve().parents[1]
FERRY = b"# Ferry strike ends\n\nThe Wexmoor ferry crews ended their strike on Tuesday after a pay deal of 6 percent.\n"


def _rag(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    rag = Path(sys.executable).parent / "rag"
    return subprocess.Popen([str(rag), *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_ui_cli_ingest_and_eval_share_one_chroma_server(tmp_path: Path, chroma_server: str) -> None:
    collection = f"shared{abs(hash(tmp_path)) % 10**8}"
    env = {**os.environ, "RAG_CHROMA_URL": chroma_server, "RAG_COLLECTION": collection, "RAG_LLM": "extractive"}
    cli = _rag("ingest", str(SEEDS), env={**env, "RAG_DATA_DIR": str(tmp_path / "cli")}, cwd=tmp_path)
    evaluation = _rag("eval", "--dataset", str(REPO / "eval/datasets/seeds_dev.jsonl"), "--judge", "lexical",
                      "--max-items", "4", "--out", str(tmp_path / "eval"),
                      env={**env, "RAG_DATA_DIR": str(tmp_path / "eval-data")}, cwd=tmp_path)

    # Meanwhile a visitor uploads an article in the Library tab and asks about it, again and again.
    ui = NewsRAG(Settings(data_dir=tmp_path / "ui", chroma_url=chroma_server, collection=collection,
                          llm="extractive"))
    intake = save_uploads([("ferry.md", FERRY)], upload_dir(ui.settings.data_dir), ui.settings.max_file_bytes)
    assert ui.ingest(intake.accepted).added
    answers = 0
    while cli.poll() is None or answers == 0:
        answer = ui.ask("When did the Wexmoor ferry crews end their strike?")
        assert not answer.error and "Tuesday" in answer.text, answer
        answers += 1

    cli_out, eval_out = cli.communicate(timeout=600)[0], evaluation.communicate(timeout=600)[0]
    assert cli.returncode == 0, cli_out.decode(errors="replace")
    assert evaluation.returncode == 0, eval_out.decode(errors="replace")

    # No stale index: the UI's next questions see the CLI's articles, by meaning and by keyword.
    titles = {doc.title for doc in ui.documents()}
    assert len(titles) == 6 and "Ferry strike ends" in titles
    assert ui.search("Lavrov drones Putin residence", k=3, mode="keyword"), "the UI kept a stale keyword index"
    lavrov = ui.ask("Which Russian official accused Ukraine of sending drones at Putin's residence?")
    assert not lavrov.refused and "Lavrov" in lavrov.text
    # The eval indexed its corpus in a collection of its own and removed nothing from the shared one.
    assert NewsRAG(Settings(data_dir=tmp_path / "other", chroma_url=chroma_server, collection=collection,
                            llm="extractive")).store.count_chunks() == ui.store.count_chunks()
