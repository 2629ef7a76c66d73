"""The news bench's checkpoint: an hour-long run that is stopped resumes where it was (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import NewsRAG, Settings, prompts

from eval.bench.news import Checkpoint, run_key


def row(item_id: str, refused: bool = False) -> dict[str, object]:
    return {"id": item_id, "refused": refused, "facts": not refused, "total_s": 1.0}


def test_rows_written_before_a_stop_are_read_back_and_a_torn_last_line_runs_again(tmp_path: Path) -> None:
    path = tmp_path / "progress.jsonl"
    first = Checkpoint(path)
    first.add("ours", row("n001"))
    first.add("naive", row("n001", refused=True))
    with path.open("a", encoding="utf-8") as out:
        out.write('{"pipeline": "ours", "row": {"id": "n0')  # killed mid-write

    resumed = Checkpoint(path)
    assert resumed.get("ours", "n001") == row("n001")
    assert resumed.get("naive", "n001") == row("n001", refused=True)
    assert resumed.get("ours", "n002") is None


def test_other_settings_prompts_or_questions_start_a_fresh_checkpoint(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "a", "question": "Who?"}\n', encoding="utf-8")
    base = run_key(Settings(data_dir=tmp_path / "one"), str(questions))

    assert run_key(Settings(data_dir=tmp_path / "two"), str(questions)) == base  # where the index lives: same run
    assert run_key(Settings(data_dir=tmp_path / "one", min_verification=0.5), str(questions)) != base
    with monkeypatch.context() as patched:
        patched.setattr(prompts, "VERIFY_SYSTEM", prompts.VERIFY_SYSTEM + " Be strict.")
        assert run_key(Settings(data_dir=tmp_path / "one"), str(questions)) != base
    questions.write_text('{"id": "a", "question": "Where?"}\n', encoding="utf-8")
    assert run_key(Settings(data_dir=tmp_path / "one"), str(questions)) != base


def test_a_changed_engine_starts_a_fresh_checkpoint(tmp_path: Path) -> None:
    """Rows answered by yesterday's code must not be resumed as today's figures."""
    questions, code = tmp_path / "q.jsonl", tmp_path / "rag"
    questions.write_text('{"id": "a", "question": "Who?"}\n', encoding="utf-8")
    code.mkdir()
    (code / "answering.py").write_text("THRESHOLD = 0.5\n", encoding="utf-8")
    base = run_key(Settings(data_dir=tmp_path), str(questions), code)
    assert run_key(Settings(data_dir=tmp_path), str(questions), code) == base
    (code / "answering.py").write_text("THRESHOLD = 0.6\n", encoding="utf-8")
    assert run_key(Settings(data_dir=tmp_path), str(questions), code) != base


def test_facts_within_reach_counts_what_the_search_found_and_what_the_model_reads(seeded_engine) -> None:  # type: ignore[no-untyped-def]
    from eval.bench.news import facts_within_reach
    from eval.dataset import EvalItem

    found = EvalItem("a", "Where did Zelensky meet Trump a few days before urging him to come to Ukraine?",
                     must=("Mar-a-Lago",), sources=("000_34d3f0eff26b4d81.txt",))
    nowhere = EvalItem("b", "Where did Zelensky meet Trump?", must=("Camp David",), sources=())
    refused = EvalItem("c", "Who won the 1930 World Cup?", unanswerable=True)
    figures = facts_within_reach(seeded_engine, [found, nowhere, refused])
    assert figures == {"top_k": 4, "passages": 0.5, "excerpts": 0.5}  # unanswerable items are not counted
    # Only the best sentence of each passage: "Mar-a-Lago" is in the passage, one sentence away.
    best_only = NewsRAG(seeded_engine.settings.model_copy(update={"context_sentences": 0}))
    assert facts_within_reach(best_only, [found, nowhere]) == {"top_k": 4, "passages": 0.5, "excerpts": 0.0}
