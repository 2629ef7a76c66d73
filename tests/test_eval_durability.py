"""An eval run keeps every finished result: one failing item, a Ctrl-C or a kill loses nothing, a rerun
resumes, and the run's own index holds exactly the corpus it was given."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from rag import NewsRAG, Settings
from tests.conftest import SEEDS

from eval.config import EvalConfig
from eval.dataset import load_dataset
from eval.judges import LexicalJudge
from eval.pipeline import CHECKPOINT, run_dataset
from eval.runner import run_eval

SEEDS_DEV = Path(__file__).resolve().parent.parent / "eval" / "datasets" / "seeds_dev.jsonl"


def test_a_failing_item_and_an_interruption_lose_nothing_and_a_rerun_resumes(tmp_path: Path,
                                                                              seeded_engine: NewsRAG) -> None:
    items = load_dataset(SEEDS_DEV)[:4]
    too_long = replace(items[1], question="Which town? " * 200)  # over RAG_MAX_QUESTION_CHARS: ask() raises
    items = [items[0], too_long, items[2], items[3]]
    checkpoint = tmp_path / "results.partial.jsonl"
    answered: list[str] = []

    def interrupt_after_three(done: int, total: int, item_id: str) -> None:
        answered.append(item_id)
        if done == 3:
            raise KeyboardInterrupt  # what Ctrl-C raises

    with pytest.raises(KeyboardInterrupt):
        run_eval(items, seeded_engine, LexicalJudge(), progress=interrupt_after_three, checkpoint=checkpoint)
    saved = [json.loads(line) for line in checkpoint.read_text().splitlines()[1:]]
    assert [r["id"] for r in saved] == [item.id for item in items[:3]]  # the failure did not stop the run
    assert saved[1]["exception"] == ("InputTooLong: The question is too long (2,400 characters; the limit is 1,000, "
                                     "set by RAG_MAX_QUESTION_CHARS). Shorten it.")
    assert saved[1]["metrics"]["error"] is True and saved[0]["exception"] == ""

    answered.clear()
    said: list[str] = []
    run = run_eval(items, seeded_engine, LexicalJudge(), progress=lambda d, t, i: answered.append(i),
                   checkpoint=checkpoint, status=said.append)
    assert said == [f"resuming: 2 of 4 results kept from an interrupted run ({checkpoint})"]  # not silently
    assert [r.id for r in run.results] == [item.id for item in items]
    assert run.summary["run"]["resumed_items"] == 2  # items 1 and 3; the one that raised is retried
    assert run.results[0].to_json() == saved[0]  # a reused result is the saved one: claims, verdicts, draft
    assert run.results[0].claims  # (which had claims to keep)


def test_an_earlier_corpus_never_leaks_into_a_run(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for path in seeds[:2]:
        shutil.copy(path, first)
    for path in seeds[2:]:
        shutil.copy(path, second)
    settings = Settings(data_dir=tmp_path / "user-data", llm="extractive")

    def questions_about(corpus: Path) -> Path:  # a run's gold sources must be indexed: the questions on its files
        files = {path.name for path in corpus.iterdir()}
        lines = [line for line in SEEDS_DEV.read_text().splitlines() if set(json.loads(line)["sources"]) <= files]
        (dataset := tmp_path / f"{corpus.name}.jsonl").write_text("\n".join(lines[:2]) + "\n")
        return dataset

    config = EvalConfig(dataset=questions_about(first), out=tmp_path / "out", corpus=(first,),
                        index_dir=tmp_path / "index", judge="lexical")
    run_dataset(config, settings)
    run_dataset(replace(config, dataset=questions_about(second), corpus=(second,)), settings)
    engine = NewsRAG(settings.model_copy(update={"data_dir": tmp_path / "index"}))
    assert sorted(doc.source_name for doc in engine.documents()) == [p.name for p in seeds[2:]]
    leaked = {seeds[0].name, seeds[1].name}
    for question in ("drones aimed at Putin's residence", "US contribution to Ukraine's war effort"):
        assert not leaked & {hit.source_name for hit in engine.search(question, k=10)}
    assert not (tmp_path / "out" / CHECKPOINT).exists()  # a finished run leaves only its outputs
