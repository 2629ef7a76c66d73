"""The news bench's checkpoint: an hour-long run that is stopped resumes where it was (issue 13)."""

from __future__ import annotations

import math
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
        patched.setattr(prompts, "VERIFY_QUESTION", prompts.VERIFY_QUESTION + " Be strict.")
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


# --- re-scoring stored runs after an audit added sources ---------------------------------------------------
def _stored(id_: str, quotes: list[str], gold_cited: bool, **extra: object) -> dict:  # type: ignore[type-arg]
    return {"id": id_, "unanswerable": False, "refused": False, "facts": True, "gold_cited": gold_cited,
            "gold_retrieved": True, "confidence": 0.9, "verification": 0.9, "short_confidence": 0.9,
            "first_token_s": 1.0, "total_s": 2.0, "prompt_tokens": 100, "text": "x", "quotes": quotes, **extra}


def test_a_stored_answer_citing_an_article_added_to_the_sources_becomes_right() -> None:
    from eval.bench.news import quote_locator, rescore_row

    archive = {"cnn_00000.jsonl": "Benteke  scored a hat-trick.\nVilla drew 3-3.",
               "cnn_00001.jsonl": "Benteke's free-kick completed his hat-trick. Villa drew 3-3.",
               "cnn_00002.jsonl": "Villa drew 3-3."}
    locate = quote_locator(archive)
    assert locate("Benteke scored a hat-trick.") == {"cnn_00000.jsonl"}  # spacing ignored
    sources = ("cnn_00000.jsonl", "cnn_00001.jsonl")  # cnn_00001 added by the audit
    assert rescore_row(_stored("a", ["Benteke's free-kick completed his hat-trick."], False), sources, locate)["gold_cited"]
    # a sentence two articles share, one of them not a source, could have been cited from the other
    assert not rescore_row(_stored("b", ["Villa drew 3-3."], False), sources, locate)["gold_cited"]
    assert rescore_row(_stored("c", ["Villa drew 3-3."], True), sources, locate)["gold_cited"]  # right stays right
    # newer rows name their cited articles: those decide
    named = _stored("d", ["Villa drew 3-3."], False, cited=["cnn_00001.jsonl"])
    assert rescore_row(named, sources, locate)["gold_cited"]
    assert not rescore_row({**named, "cited": ["cnn_00002.jsonl"]}, sources, locate)["gold_cited"]


def test_rescoring_keeps_the_stored_sweep_grid_and_recounts_right_answers() -> None:
    from eval.bench.news import quote_locator, rescore, sweep
    from eval.dataset import EvalItem

    rows = [_stored("a", ["Added source sentence."], False), _stored("b", ["Gold sentence."], True)]
    stored_sweep = [{k: v for k, v in e.items() if k != "short"} for e in sweep(rows, (0.0,), (0.0, 0.5), (0.0,))]
    figures = {"ours": {"right_and_gold_cited": 1, "per_question": rows}, "sweep": stored_sweep}
    items = [EvalItem("a", "Q?", must=("x",), sources=("cnn_00000.jsonl", "cnn_00001.jsonl")),
             EvalItem("b", "Q?", must=("x",), sources=("cnn_00002.jsonl",))]
    archive = {"cnn_00001.jsonl": "Added source sentence.", "cnn_00002.jsonl": "Gold sentence."}
    after = rescore(figures, items, quote_locator(archive))
    assert after["ours"]["right_and_gold_cited"] == 2 and after["ours"]["wrong_but_cited"] == 0
    assert [(e["verification"], e["right"]) for e in after["sweep"]] == [(0.0, 2), (0.5, 2)]
    assert all("short" not in e for e in after["sweep"])  # the older format, kept
    assert after["by_kind"] == {"one fact": {"questions": 2, "right": 2, "refused": 0, "wrong": 0}}
    with pytest.raises(ValueError, match="1 stored questions .b.*--dataset"):  # another set's questions
        rescore(figures, items[:1], quote_locator(archive))


# --- re-reading stored picks with another second-look passage (eval.bench.relook) -----------------------
ARTICLE = ("Prosecutors filed the case in San Francisco on Friday. The indictment names the company. "
           "It lists 15 counts of conspiracy and money laundering. Shares fell 2% after the news. "
           "The company said it would fight the charges in court.")


def _pick(text: str, article: str = ARTICLE) -> "Sentence":  # type: ignore[name-defined]  # noqa: F821
    from rag.context import Source
    from rag.evidence import Sentence
    from rag.types import Hit

    start = article.index(text)
    hit = Hit("c1", "doc1", article, 0, len(article), 1.0, title="Shipper indicted")
    return Sentence(1, Source(1, hit, article, 0, len(article), 1.0), text, start, start + len(text))


def _overlap_scorer(question: str, texts: list[str]) -> list[float]:
    words = set(question.lower().split())
    return [len(words & set(t.lower().rstrip(".").split())) for t in texts]


def test_the_question_best_variant_adds_the_closest_other_sentence_in_article_order() -> None:
    from eval.bench.relook import VARIANTS

    pick = _pick("The company said it would fight the charges in court.")
    passage = VARIANTS["question-best"]([pick], {"doc1": ARTICLE}, "how many counts of conspiracy", _overlap_scorer)
    # the window is the last two sentences; the counts sentence is outside it and comes first, in article order
    assert passage == ("Shipper indicted: It lists 15 counts of conspiracy and money laundering. ... "
                       "Shares fell 2% after the news. The company said it would fight the charges in court.")
    assert VARIANTS["window1"]([pick], {"doc1": ARTICLE}, "q", _overlap_scorer).startswith("Shipper indicted: Shares fell")


def test_the_continued_look_keeps_the_choice_chat_as_its_prefix_and_asks_about_the_anchored_numbers() -> None:
    from eval.bench.relook import continued_messages

    chosen = [{"role": "system", "content": "numbered sentences"}, {"role": "user", "content": "1. ...\n\nQuestion: q"}]
    messages = continued_messages(chosen, [_pick("It lists 15 counts of conspiracy and money laundering.")], "15")
    assert messages[:2] == chosen  # the server's prompt cache holds this prefix: only the last turns are new
    assert messages[2] == {"role": "assistant", "content": "1\nShort: 15"}
    assert messages[3]["content"].startswith("Do sentence 1 state the answer")


def test_stored_quotes_find_their_sentences_and_the_summary_scores_each_variant() -> None:
    from eval.bench.relook import merge_lines, picks_of, summary

    sentences = [_pick("The indictment names the company."), _pick("Shares fell 2% after the news.")]
    assert picks_of([" Shares fell 2% after the news."], sentences) == [sentences[1]]
    assert picks_of(["Shares fell 2% after the news."], sentences, cited=["other.jsonl"]) == []  # not that article's
    merged = merge_lines(['{"id": "a", "window1": 0.9}', '{"id": "a", "window2": 0.8}', '{"id": "b", "wind'])
    assert merged == {"a": {"id": "a", "window1": 0.9, "window2": 0.8}}  # a torn last line is read again later
    rows = [{**_stored("a", [], True), "verification": 0.5}, {**_stored("b", [], False), "facts": False, "verification": 0.7}]
    relooked = [{"id": "a", "stored": 0.5, "window1": 0.9}, {"id": "b", "stored": 0.7, "window1": 0.2}]
    lines = summary(rows, relooked, ["stored", "window1"], (0.0, 0.6, 0.0))
    assert lines[0].startswith("stored: 2 answers re-read, AUROC 0.0;") and "right 0" in lines[0] and "wrong 1" in lines[0]
    assert lines[1].startswith("window1: 2 answers re-read, AUROC 1.0;") and "right 1" in lines[1] and "wrong 0" in lines[1]


def test_the_report_half_keeps_every_answer_only_when_asked(tmp_path: Path) -> None:
    """`rag bench news --half report --keep-all`: no threshold refuses, the skip table is scored from the
    rows, and no threshold choice is made on the half figures are quoted from. Without it, as users."""
    from eval.bench.news import run

    kept = run(tmp_path, half="report", llm="extractive", naive=False, n=12, limit=3, keep_all=True)
    assert kept["kept_all"] is True and kept["min_confidence"] == 0.0
    assert "skip_second_look" in kept and "threshold_choice" not in kept
    as_users = run(tmp_path, half="report", llm="extractive", naive=False, n=12, limit=3)
    assert as_users["kept_all"] is False and as_users["min_confidence"] == Settings().extractive_min_confidence
    assert "skip_second_look" not in as_users


def test_another_question_file_over_the_same_archive_is_split_and_answered_the_same_way(tmp_path: Path) -> None:
    """`rag bench news --dataset`: new questions over the archive (more tuning data) run without the rest."""
    import json

    from eval.bench.news import run

    questions = [{"id": f"x{i}", "question": question, "answer": "", "must": must, "sources": ["cnn_00010.jsonl"],
                  "unanswerable": not must}
                 for i, (question, must) in enumerate([("Who asked Ellie Meredith to be his prom date?", ["Trey"]),
                                                       ("Which college will Trey Moses play for?", ["Ball State"]),
                                                       ("What colour was Ellie Meredith's prom dress?", [])])]
    dataset = tmp_path / "more.jsonl"
    dataset.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    figures = run(tmp_path, half="tune", llm="extractive", naive=False, n=12, dataset=dataset)
    assert figures["dataset"] == "more.jsonl"
    assert [row["id"] for row in figures["ours"]["per_question"]] == ["x0", "x2"]  # first of each kind
    # every answer kept and no refusal rule to apply: what users would see is unknown, so no by-kind table
    assert "by_kind" not in figures
    figures = run(tmp_path, half="all", llm="extractive", naive=False, n=12, dataset=dataset)  # as users get it
    assert {kind: counts["questions"] for kind, counts in figures["by_kind"].items()} == {"one fact": 2, "near-miss": 1}


# --- one probability from the three signals (eval.bench.calibration) ------------------------------------
def _signals(item_id: str, verification: float, short: float, right: bool, unanswerable: bool = False) -> dict:  # type: ignore[type-arg]
    return {"id": item_id, "unanswerable": unanswerable, "refused": False, "facts": right, "gold_cited": right,
            "confidence": 0.4, "verification": verification, "short_confidence": short, "short_gap": ""}


def test_the_fitted_probability_refuses_the_answers_its_signals_doubt() -> None:
    from eval.bench.calibration import best_threshold, cross_validated, decide, fit

    rows = ([_signals(f"r{i}", 0.75 + i / 100, 0.9, True) for i in range(20)]
            + [_signals(f"w{i}", 0.2 + i / 100, 0.5, False) for i in range(10)]
            + [_signals(f"u{i}", 0.3, 0.6, False, unanswerable=True) for i in range(10)])
    weights = fit(rows)
    assert weights[1] > 0 and weights[2] > 0  # surer second look and short answer: more likely right
    threshold = best_threshold(rows, weights)
    assert [decide(r, weights, threshold) for r in rows] == ["right"] * 20 + ["refused"] * 20
    assert cross_validated(rows).count("wrong") == 0  # a fit that never saw a row still refuses it


def test_an_answer_refused_whatever_the_thresholds_stays_refused() -> None:
    from eval.bench.calibration import decide, fit

    rows = [_signals(f"r{i}", 0.9, 0.9, True) for i in range(5)] + [_signals("w", 0.1, 0.1, False)]
    gap = dict(_signals("g", 0.99, 0.99, True), short_gap="the answer in a few words only repeats the question")
    assert decide(gap, fit(rows), 0.3) == "refused"


def test_the_readme_figures_of_the_fitted_probability_come_from_the_stored_runs() -> None:
    from eval.bench.calibration import compare, stored_rows

    results = Path(__file__).resolve().parents[1] / "eval" / "bench" / "results" / "news"
    tune = stored_rows([results / "tune_local_thresholds_off_chunk_offsets.json",
                        results / "tune_local_new_questions_keep_all.json"])
    report = stored_rows([results / "report_local_first70_keep_all.json",
                          results / "report_local_new_questions_keep_all.json"])
    out = compare(tune, report, (0.0, 0.6, 0.65))
    assert (len(tune), len(report)) == (154, 130)
    assert out["threshold"] == 0.72
    assert {k: out["tune_cross_validated"][k] for k in ("right", "wrong", "score", "baseline_score")} == {  # type: ignore[index]
        "right": 63, "wrong": 4, "score": 92, "baseline_score": 91}
    assert {k: out["report"][k] for k in ("right", "unanswerable_refused", "wrong", "score", "baseline_score")} == {  # type: ignore[index]
        "right": 58, "unanswerable_refused": 27, "wrong": 13, "score": 59, "baseline_score": 47}


def test_a_question_is_split_only_when_the_model_wrote_two_whole_questions() -> None:
    from eval.bench.subquestions import parse_split

    asked = "Which club did he join, and how much did it pay?"
    assert parse_split("two\nWhich club did he join?\nHow much did the club pay for him?", asked) == [
        "Which club did he join?", "How much did the club pay for him?"]
    assert parse_split("one", asked) == [asked]
    assert parse_split("two\nWhich club did he join?", asked) == [asked]  # a reply cut short: not split
    assert parse_split("two\nWho?\nWhen?", asked) == [asked]  # fragments are no questions


def _part(text: str, refused: bool = False, short: float = 0.9) -> dict:  # type: ignore[type-arg]
    return {"refused": refused, "confidence": 0.4, "verification": 0.9, "short_confidence": short,
            "short_gap": "", "text": text, "cited": ["a.jsonl"] if not refused else []}


def test_parts_are_put_together_under_the_default_thresholds() -> None:
    from eval.bench.subquestions import combined

    item = {"id": "q", "unanswerable": False, "must": ["Arsenal", "£20m|20 million"], "sources": ["a.jsonl"]}
    both = [_part("He joined Arsenal [1]."), _part("Arsenal paid £20m [1].")]
    assert combined(item, both, "all") | {"text": ""} == {
        "id": "q", "unanswerable": False, "refused": False, "facts": True, "gold_cited": True, "text": ""}
    one_unsure = [_part("He joined Arsenal [1]."), _part("Arsenal paid £5m [1].", short=0.3)]
    assert combined(item, one_unsure, "all")["refused"]  # no half answers
    half = combined(item, one_unsure, "any")
    assert not half["refused"] and half["text"] == "He joined Arsenal [1]." and not half["facts"]


def test_the_readme_figures_of_the_sub_question_experiment_come_from_its_stored_run() -> None:
    from eval.bench.subquestions import compare

    stored = Path(__file__).resolve().parents[1] / "eval" / "bench" / "results" / "news" / "subquestions_tune.jsonl"
    out = compare(stored, "tune")
    assert (out["questions"], out["two_part"], out["two_part_split"], out["others_split"]) == (194, 47, 18, 7)
    assert out["any"]["right_refused_wrong"] == [79, 98, 17] and out["any"]["gain"] == -17  # type: ignore[index]
    assert out["all"]["right_refused_wrong"] == [78, 108, 8] and out["all"]["gain"] == 1  # type: ignore[index]
    assert out["all"]["before"] == [77, 109, 8]  # type: ignore[index]


NEWS_RESULTS = Path(__file__).resolve().parents[1] / "eval" / "bench" / "results" / "news"
TUNING_HALF = ("tune_local_thresholds_off_chunk_offsets.json", "tune_local_new_questions_keep_all.json",
               "tune_local_new80_keep_all.json", "tune_local_new80b_keep_all.json", "tune_local_new80c_keep_all.json")
REPORT_HALF = ("report_local_first70_keep_all.json", "report_local_new_questions_keep_all.json",
               "report_local_new80_keep_all.json", "report_local_new80b_keep_all.json", "report_local_new80c_keep_all.json")
FIT_ON_234 = (0.354, 1.291, 0.89, -1.6)  # the one probability's weights from 2026-12-04 to session 28, at 0.75


def test_the_first_one_probability_was_the_fit_on_the_234_question_tuning_half_and_its_registered_figures() -> None:
    """The fit the one probability became the default with: the stored keep-all rows of the 234-question
    tuning half give its weights and threshold, and the figures its decision was registered on."""
    from eval.bench.calibration import compare, stored_rows

    tune = stored_rows([NEWS_RESULTS / name for name in TUNING_HALF[:4]])
    report = stored_rows([NEWS_RESULTS / name for name in REPORT_HALF[:4]])
    out = compare(tune, report, (0.0, 0.6, 0.65))
    assert (len(tune), len(report)) == (234, 210)
    assert tuple(out["weights"].values()) == pytest.approx(FIT_ON_234, abs=0.01)  # type: ignore[union-attr]
    assert out["threshold"] == 0.75
    cross = out["tune_cross_validated"]
    assert (cross["score"], cross["baseline_score"]) == (137, 123) and cross["p_better"] >= 0.9  # type: ignore[index]
    assert {k: out["report"][k] for k in ("right", "unanswerable_refused", "wrong", "answered", "score",  # type: ignore[index]
                                           "baseline_score")} == {
        "right": 79, "unanswerable_refused": 52, "wrong": 12, "answered": 91, "score": 107, "baseline_score": 95}


LIKELIHOODS = ("likelihood_tune_keep_all.jsonl", "likelihood_report_keep_all.jsonl", "likelihood_new80c_keep_all.jsonl",
               "likelihood_holdout_keep_all.jsonl")
THREE_ON_524 = (0.394, 0.746, 0.707, -0.986)  # the three signals refitted on all of news_dev, at 0.73


LOOKS = "look_in_likelihood_prefix.jsonl"  # session 35: every stored answer's second look read again as the engine reads it
SESSION_29 = (0.432, 0.709, 0.621, -0.568, 0.337)  # the one probability from session 29 to 34 (the look alone)
SESSION_29_DEFAULT = 0.67  # its threshold: the default until session 35


REREAD = "choice_token_reread.jsonl"  # session 37: every stored answer's choice token read again, both ways
SESSION_35 = (0.37, 1.172, 0.614, -1.325, 0.357)  # the one probability of sessions 35-36 (the most likely digit)
SESSION_35_DEFAULT = 0.73


def _as_answered_today(names: tuple[str, ...], reading: str = "mass") -> list[dict]:  # type: ignore[type-arg]
    """Stored rows as the engine reads them today: the choice line's confidence as P(any sentence number)
    (session 37, ``reading="mass"``; "best" gives the most likely digit from the same re-read) and the
    second look in the likelihood's chat prefix (session 35)."""
    from eval.bench.choice_mass import with_confidence
    from eval.bench.relook import merge_lines

    read = merge_lines((NEWS_RESULTS / REREAD).read_text(encoding="utf-8").splitlines())
    return with_confidence(_as_answered_in_session_35(names), read, reading)


def _as_answered_in_session_35(names: tuple[str, ...]) -> list[dict]:  # type: ignore[type-arg]
    """Stored rows with the second look as the engine reads it since session 35 (in the likelihood's chat
    prefix); everything else as answered."""
    from eval.bench.likelihood import with_looks
    from eval.bench.relook import merge_lines

    return with_looks(_with_likelihoods(names), merge_lines((NEWS_RESULTS / LOOKS).read_text(encoding="utf-8").splitlines()))


def _with_likelihoods(names: tuple[str, ...]) -> list[dict]:  # type: ignore[type-arg]
    from eval.bench.calibration import stored_rows
    from eval.bench.likelihood import with_likelihoods
    from eval.bench.relook import merge_lines

    read: dict[str, dict] = {}  # type: ignore[type-arg]
    for name in LIKELIHOODS:
        read.update(merge_lines((NEWS_RESULTS / name).read_text(encoding="utf-8").splitlines()))
    return with_likelihoods(stored_rows([NEWS_RESULTS / name for name in names]), read)


HOLDOUT2_FIGURES = (58, 44, 8, 86, 84)  # right, near-misses refused, wrong, score; session 28 scored 84
SEPARATE_ON_524 = (0.467, 0.727, 0.615, -0.81, 0.305, 0.064)  # session 28's default, at 0.71: with the prior


def test_session_28_s_one_probability_was_the_fit_on_all_of_news_dev_adopted_on_the_holdout() -> None:
    """The weights of session 28 (the three signals, the evidence likelihood and its gain over the prior,
    fitted on both halves of news_dev: 524 questions, every answer kept) and the two rules registered
    before the holdout set was answered: the three signals refitted on the 524 score no lower than the
    234-question fit; with the likelihoods, higher than that in at least 90% of resamples."""
    from eval.bench.calibration import best_threshold, compare, decide, figures, fit
    from eval.bench.likelihood import FEATURE_SETS, featurizer
    from eval.bench.news import outcome_at_probability
    from rag.calibration import AnswerWeights

    dev = _with_likelihoods(TUNING_HALF + REPORT_HALF)
    holdout = _with_likelihoods(("holdout_local_keep_all.json",))
    assert (len(dev), len(holdout)) == (524, 160)
    three = compare(dev, holdout, (0.0, 0.6, 0.65))
    assert tuple(three["weights"].values()) == pytest.approx(THREE_ON_524, abs=0.01)  # type: ignore[union-attr]
    assert three["threshold"] == 0.73
    before = [outcome_at_probability(r, 0.75, AnswerWeights(*FIT_ON_234)) for r in holdout]
    refit = [outcome_at_probability(r, 0.73, AnswerWeights(*THREE_ON_524)) for r in holdout]
    assert figures(holdout, refit, before)["score"] == figures(holdout, before, before)["score"] == 80

    featurize = featurizer(FEATURE_SETS["add"])
    weights = fit(dev, featurize=featurize)
    names = ("confidence", "verification", "short", "evidence", "gain", "bias")
    fitted = dict(zip(names, (float(w) for w in weights), strict=True))
    assert fitted == pytest.approx(AnswerWeights(*SEPARATE_ON_524)._asdict(), abs=0.01)
    assert best_threshold(dev, weights, featurize) == 0.71
    registered = figures(holdout, [decide(r, weights, 0.71, featurize) for r in holdout], refit)
    assert (registered["right"], registered["unanswerable_refused"], registered["wrong"], registered["score"],
            registered["baseline_score"]) == (58, 42, 7, 86, 80) and registered["p_better"] >= 0.9
    engine = [outcome_at_probability(r, 0.71, AnswerWeights(*SEPARATE_ON_524)) for r in holdout]  # rounded weights
    users = figures(holdout, engine, refit)
    assert (users["right"], users["unanswerable_refused"], users["wrong"], users["answered"]) == (59, 42, 7, 66)


def test_session_29_s_one_probability_dropped_the_prior_as_registered_on_the_second_holdout() -> None:
    """Session 29's weights and threshold (the engine's until session 35) were the fit on the 524 news_dev
    questions of the three signals and the evidence likelihood, without the likelihood after the question
    alone (a model call of ~1 s that weighed 0.064). Registered before the second holdout set was
    answered: adopted if its score there is at least session 28's minus 2 (one wrong answer)."""
    from eval.bench.calibration import best_threshold, figures, fit
    from eval.bench.likelihood import FEATURE_SETS, featurizer
    from eval.bench.news import outcome_at_probability
    from rag.calibration import AnswerWeights

    dev = _with_likelihoods(TUNING_HALF + REPORT_HALF)
    featurize = featurizer(FEATURE_SETS["evidence"])
    weights = fit(dev, featurize=featurize)
    names = ("confidence", "verification", "short", "evidence", "bias")
    assert dict(zip(names, (float(w) for w in weights), strict=True)) == pytest.approx(
        {k: v for k, v in AnswerWeights(*SESSION_29)._asdict().items() if k != "gain"}, abs=0.01)
    assert best_threshold(dev, weights, featurize) == SESSION_29_DEFAULT
    second = _with_likelihoods(("holdout2_local_keep_all.json",))
    assert len(second) == 160
    before = [outcome_at_probability(r, 0.71, AnswerWeights(*SEPARATE_ON_524)) for r in second]
    now = [outcome_at_probability(r, SESSION_29_DEFAULT, AnswerWeights(*SESSION_29)) for r in second]
    registered = figures(second, now, before)
    assert registered["score"] >= registered["baseline_score"] - 2
    assert (registered["right"], registered["unanswerable_refused"], registered["wrong"], registered["score"],
            registered["baseline_score"]) == HOLDOUT2_FIGURES


def test_session_35_s_one_probability_read_the_look_in_the_likelihood_s_prefix_as_registered() -> None:
    """Session 35's weights and threshold: the same fit, with the second look read in the likelihood's
    chat prefix (``rag.prompts.passage_messages``), so the likelihood after it costs ~0.3 s instead of
    ~2 s. Registered before it was computed: adopted if holdouts 3 and 4 together score no more than 2
    below session 29's fit (and the call is at least 0.5 s faster: a stored timing)."""
    import statistics

    from eval.bench.calibration import best_threshold, figures, fit
    from eval.bench.likelihood import FEATURE_SETS, featurizer
    from eval.bench.news import outcome_at_probability
    from eval.bench.relook import merge_lines
    from rag.calibration import AnswerWeights

    dev = _as_answered_in_session_35(TUNING_HALF + REPORT_HALF)
    featurize = featurizer(FEATURE_SETS["evidence"])
    weights = fit(dev, featurize=featurize)
    names = ("confidence", "verification", "short", "evidence", "bias")
    assert dict(zip(names, (float(w) for w in weights), strict=True)) == pytest.approx(
        {k: v for k, v in AnswerWeights(*SESSION_35)._asdict().items() if k != "gain"}, abs=0.01)
    assert best_threshold(dev, weights, featurize) == SESSION_35_DEFAULT
    names_34 = ("holdout3_local_keep_all.json", "holdout4_local_keep_all.json")
    stored, today = _with_likelihoods(names_34), _as_answered_in_session_35(names_34)
    before = [outcome_at_probability(r, SESSION_29_DEFAULT, AnswerWeights(*SESSION_29)) for r in stored]
    now = [outcome_at_probability(r, SESSION_35_DEFAULT, AnswerWeights(*SESSION_35)) for r in today]
    registered = figures(today, now, before)
    assert (registered["right"], registered["unanswerable_refused"], registered["wrong"], registered["answered"],
            registered["score"], registered["baseline_score"]) == (101, 79, 16, 117, 148, 145)
    looks = merge_lines((NEWS_RESULTS / LOOKS).read_text(encoding="utf-8").splitlines()).values()
    assert statistics.median(look["likelihood_seconds"] for look in looks) < 0.5
    assert max(look["likelihood_prompt_tokens"] for look in looks) <= 10


def test_the_engine_s_one_probability_reads_every_sentence_number_as_registered() -> None:
    """``rag.calibration``'s weights and threshold (session 37): the same fit, with the choice line's
    confidence read as P(any sentence number) against P(none) instead of P(the most likely first digit)
    (``eval.bench.choice_mass``: both read from one re-read of every stored answer's choice token).
    Registered before it was computed: adopted if holdouts 3 and 4 together score at least 2 more than
    the fit on the most likely digit from the same re-read, and neither alone more than 2 less."""
    from eval.bench.calibration import best_threshold, decide, figures, fit
    from eval.bench.likelihood import FEATURE_SETS, featurizer
    from eval.bench.news import outcome_at_probability
    from rag.calibration import ANSWER_WEIGHTS, TUNED_MIN_ANSWER_PROBABILITY

    featurize = featurizer(FEATURE_SETS["evidence"])
    dev = _as_answered_today(TUNING_HALF + REPORT_HALF)
    weights = fit(dev, featurize=featurize)
    names = ("confidence", "verification", "short", "evidence", "bias")
    assert dict(zip(names, (float(w) for w in weights), strict=True)) == pytest.approx(
        {k: v for k, v in ANSWER_WEIGHTS._asdict().items() if k != "gain"}, abs=0.01)
    assert ANSWER_WEIGHTS.gain == 0.0
    assert best_threshold(dev, weights, featurize) == TUNED_MIN_ANSWER_PROBABILITY

    dev_best = _as_answered_today(TUNING_HALF + REPORT_HALF, "best")
    best_weights = fit(dev_best, featurize=featurize)
    best_at = best_threshold(dev_best, best_weights, featurize)
    scores = []
    for name in ("holdout3_local_keep_all.json", "holdout4_local_keep_all.json"):
        today, before = _as_answered_today((name,)), _as_answered_today((name,), "best")
        now = [outcome_at_probability(r, TUNED_MIN_ANSWER_PROBABILITY) for r in today]
        then = [decide(r, best_weights, best_at, featurize) for r in before]
        result = figures(today, now, then)
        scores.append((result["score"], result["baseline_score"]))
        assert result["score"] >= result["baseline_score"] - 2
    assert scores == REGISTERED_37
    assert sum(now for now, _ in scores) >= sum(then for _, then in scores) + 2


REGISTERED_37 = [(79, 80), (70, 66)]  # holdouts 3 and 4: (every number, the most likely digit)


def test_the_choice_token_read_as_any_sentence_number_adds_up_the_digits() -> None:
    """The first token "1" stands for sentences 1 and 10-19; two sentences stating one fact split the
    model's mass. The most likely digit alone says "none" is likelier here; every number says it is not."""
    from eval.bench.choice_mass import best_digit, digit_mass
    from rag.evidence import confidence_from_logprobs

    alternatives = [("1", math.log(0.3)), ("2", math.log(0.3)), ("none", math.log(0.35)), ("The", math.log(0.05))]
    assert best_digit(alternatives) == pytest.approx(0.3 / 0.65)
    assert digit_mass(alternatives) == pytest.approx(0.6 / 0.95) == confidence_from_logprobs(alternatives)
    assert best_digit([("The", -0.1)]) is None and digit_mass([("The", -0.1)]) is None


FRESH_HOLDOUTS = {  # stored run: (right, near-misses refused, wrong, answers given) at the default and
    # with every answer kept; each set answered once, nothing chosen on it but what was registered before
    # (session 29's default gave 59, 38, 13, 72 and 50, 40, 8, 58; session 35's 58, 39, 9, 67 and 43, 40, 7, 50)
    "holdout3_local_keep_all.json": ((58, 39, 9, 67), (78, 31, 28, 106)),  # session 30
    "holdout4_local_keep_all.json": ((44, 40, 7, 51), (73, 36, 20, 93)),  # session 34
}
EXPLANATORY_FIGURES = ((3, 40, 0, 3), (28, 25, 37, 65))  # session 29's default: 7, 40, 2, 9
EXPLANATORY2_FIGURES = ((0, 20, 0, 0), (22, 7, 26, 48))  # session 29's default: 2, 20, 1, 3


@pytest.mark.parametrize("name", FRESH_HOLDOUTS)
def test_a_holdout_answered_once_at_the_default_gives_the_readme_s_figures(name: str) -> None:
    """Holdout 3 (written in session 29, answered in session 30) and holdout 4 (session 34) were each
    answered once at the engine's default, every answer kept. What the README quotes for them follows
    from the stored rows at the engine's own weights and threshold, so a change of either shows here."""
    rows = _as_answered_today((name,))
    assert len(rows) == 160 and all(r.get("evidence_lp") is not None for r in rows if r.get("short"))
    assert _default_and_kept(rows) == FRESH_HOLDOUTS[name]


def _default_and_kept(rows: list[dict]) -> tuple[tuple[int, ...], tuple[int, ...]]:  # type: ignore[type-arg]
    """(right, near-misses refused, wrong, answers given) under the default refusal, and with every
    answer kept: what the README quotes for a set answered once with ``--keep-all``."""
    from eval.bench.calibration import figures
    from eval.bench.news import outcome, outcome_at_probability
    from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY

    default = [outcome_at_probability(r, TUNED_MIN_ANSWER_PROBABILITY) for r in rows]
    now, every = figures(rows, default, default), figures(rows, [outcome(r) for r in rows], default)
    keys = ("right", "unanswerable_refused", "wrong", "answered")
    return tuple(now[k] for k in keys), tuple(every[k] for k in keys)


def test_explanatory_questions_are_refused_by_the_default_and_a_refit_on_them_did_not_pass_its_rule() -> None:
    """The explanatory set (why / how did X react / what did X say; session 30), answered once at the
    default with every answer kept: the reader is right on few of them even when every answer is kept,
    and the one probability refuses nearly all. Registered before it was answered: the four signals
    refitted on news_dev's 524 plus the set's tuning half are adopted only if they score 2 more on its
    report half. They score 2 less, so the engine's weights stay."""
    from eval.bench.calibration import best_threshold, decide, figures, fit
    from eval.bench.likelihood import FEATURE_SETS, featurizer
    from eval.bench.news import outcome_at_probability, split
    from eval.dataset import load_dataset
    from rag.calibration import AnswerWeights

    order = [i.id for i in load_dataset(NEWS_RESULTS.parents[2] / "datasets" / "news_explanatory.jsonl")]
    today = _as_answered_today(("explanatory_local_keep_all.json",))
    assert _default_and_kept(today) == EXPLANATORY_FIGURES
    rows = sorted(_with_likelihoods(("explanatory_local_keep_all.json",)), key=lambda r: order.index(r["id"]))

    kinds = [r["unanswerable"] for r in rows]
    tune, report = split(rows, "tune", kinds), split(rows, "report", kinds)
    featurize = featurizer(FEATURE_SETS["evidence"])
    fitted_on = _with_likelihoods(TUNING_HALF + REPORT_HALF) + tune
    weights = fit(fitted_on, featurize=featurize)
    threshold = best_threshold(fitted_on, weights, featurize)
    refit = [decide(r, weights, threshold, featurize) for r in report]
    base = [outcome_at_probability(r, SESSION_29_DEFAULT, AnswerWeights(*SESSION_29)) for r in report]  # the default then
    registered = figures(report, refit, base)
    assert (registered["score"], registered["baseline_score"]) == (21, 23)


def test_the_second_explanatory_set_answered_once_at_the_default_gives_the_readme_s_figures() -> None:
    """Written in session 31 to decide a change of the reader, and answered once at the default when that
    change was dropped (every answer kept): the reader right on about a third of why / how questions, as
    on the first set, and the one probability refusing nearly all of them."""
    rows = _as_answered_today(("explanatory2_local_keep_all.json",))
    assert len(rows) == 80
    assert _default_and_kept(rows) == EXPLANATORY2_FIGURES


SIBLING_SETS = {  # stored run: (dataset, (right, near-misses refused, wrong, answers) at the default and
    # with every answer kept, (near-misses passed, of them answered with the paired question's own fact))
    # (session 29's default: 28, 31, 10, 38 and 41, 64, 19, 60, passing 9 and 15 near-misses, 4 and 7 with the pair's fact)
    "siblings_local_keep_all.json": ("news_siblings.jsonl", ((28, 36, 5, 33), (31, 15, 30, 61)), (4, 2)),
    "siblings2_local_keep_all.json": ("news_siblings2.jsonl", ((39, 66, 16, 55), (50, 37, 51, 101)), (13, 7)),  # session 35: 38, 66, 16, 54
}


@pytest.mark.parametrize("name", SIBLING_SETS)
def test_a_sibling_set_answered_once_passes_near_misses_with_a_fact_of_the_asked_kind(name: str) -> None:
    """Written in session 33 before they were answered, answered once at the default (every answer kept):
    each pair asks a fact an article states about one thing, then the same kind of fact about another
    thing it names. The README's figures follow from the stored rows; about half of the near-misses that
    pass are answered with the paired question's own fact, which is what makes them a trap."""
    from eval.bench.news import outcome_at_probability
    from eval.dataset import load_dataset
    from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY

    dataset, figures, traps = SIBLING_SETS[name]
    rows = {r["id"]: r for r in _as_answered_today((name,))}
    items = {i.id: i for i in load_dataset(NEWS_RESULTS.parents[2] / "datasets" / dataset)}
    assert set(rows) == set(items)
    assert _default_and_kept(list(rows.values())) == figures

    passed = [qid for qid, r in rows.items()
              if r["unanswerable"] and outcome_at_probability(r, TUNED_MIN_ANSWER_PROBABILITY) == "wrong"]
    with_pair_fact = [qid for qid in passed if any(
        alternative.lower() in rows[qid]["text"].lower()
        for must in items[qid[:-1] + "a"].must for alternative in must.split("|"))]
    assert (len(passed), len(with_pair_fact)) == traps


FIRST_70_LIVE = {  # stored run: ((right, near-misses refused, wrong), (facts the naive pipeline states, of them
    # ours right and cited), first-token ratio to the naive pipeline's)
    # session 35, today's default (the look in the likelihood's chat prefix, >= 0.73): the README's live rows
    "report_local_first70_look_in_prefix_naive_alternating.json": ((25, 15, 4), (32, 18), 0.72),
    # session 31, session 29's default (>= 0.67): the figures docs/evaluation.md quotes
    "report_local_first70_evidence_only_naive_alternating.json": ((26, 14, 6), (32, 18), 0.85),
}


@pytest.mark.parametrize("name", FIRST_70_LIVE)
def test_a_default_beside_the_naive_pipeline_gives_the_quoted_first_70_figures(name: str) -> None:
    """The first 70 report-half questions answered live by a default and the naive pipeline, alternating in
    one process. The quoted figures follow from the stored rows; the first-token ratio is a stored
    measurement read back, not a timed test (0.72 since the likelihood reads the look's cached prompt)."""
    import json

    from eval.bench.news import outcome

    [run] = json.loads((NEWS_RESULTS / name).read_text())["sections"].values()
    ours = {r["id"]: r for r in run["ours"]["per_question"]}
    naive = {r["id"]: r for r in run["naive"]["per_question"]}
    kept = [outcome(r) for r in ours.values()]
    near_misses = [outcome(r) for r in ours.values() if r["unanswerable"]]
    counts, facts, ratio = FIRST_70_LIVE[name]
    assert (kept.count("right"), near_misses.count("refused"), kept.count("wrong")) == counts
    stated = [i for i, r in naive.items() if not r["unanswerable"] and r["facts"]]
    assert (len(stated), sum(outcome(ours[i]) == "right" for i in stated)) == facts
    assert round(run["ours"]["ttft_p50_s"] / run["naive"]["ttft_p50_s"], 2) == ratio


@pytest.mark.parametrize(("stored", "right_and_wrong_after"), [
    ("explanatory_tune_first20_reason_prompt.json", (6, 10)),  # session 31: R1, asking for the reason
    ("explanatory_tune_first20_answer_first.json", (6, 9)),  # session 32: S1, the short answer first
])
def test_reader_prompts_tried_on_the_explanatory_tuning_half_gave_more_wrong_answers(
        stored: str, right_and_wrong_after: tuple[int, int]) -> None:
    """Two changes of the reader, each smoke-tested on the first 20 of the explanatory set's tuning half
    with every answer kept, against the same questions of session 30's run (5 right, 6 wrong): R1 told the
    prompt that a sentence repeating the question does not answer it and that a why/how answer is the
    reason or reaction; S1 had the model write its few words before naming its sentences. Each made one
    answer more right and three or four more wrong, so neither was taken to its decision."""
    from eval.bench.calibration import stored_rows
    from eval.bench.news import outcome

    tried = {r["id"]: r for r in stored_rows([NEWS_RESULTS / stored])}
    before = {r["id"]: r for r in stored_rows([NEWS_RESULTS / "explanatory_local_keep_all.json"]) if r["id"] in tried}
    assert len(tried) == len(before) == 20

    def right_and_wrong(rows: dict[str, dict]) -> tuple[int, int]:  # type: ignore[type-arg]
        kept = [outcome(r) for r in rows.values()]
        return kept.count("right"), kept.count("wrong")

    assert right_and_wrong(tried) == right_and_wrong_after
    assert right_and_wrong(before) == (5, 6)


def test_with_the_short_answer_first_the_first_token_no_longer_measures_doubt() -> None:
    """Why S1 could not keep the one probability's fit: its first token is the "Short:" label, which the
    model writes whenever it writes at all, so the choice confidence read there is ~1 on every question
    (on the 40 smoke-tested), where the choice-first reply's number-against-none reading stayed below 0.4
    on the same 20 explanatory questions."""
    from eval.bench.calibration import stored_rows

    rows = stored_rows([NEWS_RESULTS / "explanatory_tune_first20_answer_first.json",
                        NEWS_RESULTS / "tune_first20_answer_first.json"])
    asked = {r["id"] for r in rows}
    before = [r for r in stored_rows([NEWS_RESULTS / "explanatory_local_keep_all.json"]) if r["id"] in asked]
    assert (len(rows), len(before)) == (40, 20)
    assert min(r["confidence"] for r in rows if r["confidence"] is not None) > 0.9
    assert max(r["confidence"] for r in before if r["confidence"] is not None) < 0.4


def test_a_keep_all_run_reports_the_default_refusal_beside_the_three_thresholds() -> None:
    """What ``rag bench news --keep-all`` prints under the one probability users get by default: the
    stored report half's rows (with their likelihoods) give the README's figures, in the markdown too."""
    from eval.bench.news import markdown, one_probability_figures
    from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY

    report = _as_answered_today(REPORT_HALF)
    rule = one_probability_figures(report, TUNED_MIN_ANSWER_PROBABILITY, (0.0, 0.6, 0.65))
    assert rule is not None
    assert {k: rule[k] for k in ("right", "unanswerable_refused", "wrong", "answered", "score", "baseline_score")} == {
        "right": 94, "unanswerable_refused": 66, "wrong": 15, "answered": 109, "score": 130, "baseline_score": 111}
    assert one_probability_figures(report, None, (0.0, 0.6, 0.65)) is None  # RAG_MIN_ANSWER_PROBABILITY=none
    page = markdown({"half": "report", "questions": len(report), "backend": "local", "articles": 2000,
                     "load_before": 1.0, "load_after": 1.0, "one_probability": rule})
    assert "one probability >= 0.73: 94/183 right" in page and "score 130 against 111" in page


def test_the_report_half_answered_whole_gives_the_readme_figures() -> None:
    """Session 53 answered all 274 report-half questions with the code of that day, every answer kept: the
    README's report-half column is these rows at the default refusal, and their outcomes by kind."""
    import json

    from eval.bench.news import one_probability_figures
    from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY

    run = next(iter(json.loads((NEWS_RESULTS / "report_local_keep_all_s53.json").read_text())["sections"].values()))
    rows = run["ours"]["per_question"]
    assert len(rows) == 274 and sum(not row["unanswerable"] for row in rows) == 200
    rule = one_probability_figures(rows, TUNED_MIN_ANSWER_PROBABILITY, (0.0, 0.6, 0.65))
    assert rule is not None
    assert (rule["right"], rule["unanswerable_refused"], rule["wrong"], rule["answered"]) == (102, 70, 18, 120)
    kept_all = run["ours"]
    assert (kept_all["right_and_gold_cited"], kept_all["wrong_but_cited"]) == (133, 48)


# --- the evidence likelihood as a further signal (eval.bench.likelihood) -------------------------------
def test_the_forced_grammar_allows_exactly_the_short_answer_quotes_included() -> None:
    from rag.likelihood import forced_grammar

    assert forced_grammar('the "Treesome" series') == 'root ::= "the \\"Treesome\\" series"'
    assert forced_grammar("a\\b\nc") == 'root ::= "a\\\\b\\nc"'


def test_a_likelihood_that_separates_right_from_wrong_is_weighed_and_refuses_what_the_three_signals_pass() -> None:
    from eval.bench.calibration import best_threshold, cross_validated, decide, fit
    from eval.bench.likelihood import FEATURE_SETS, featurizer

    # The three signals cannot tell these apart; the passage raised the right answers' likelihood only.
    rows = ([dict(_signals(f"r{i}", 0.8, 0.9, True), evidence_lp=-0.1 - i / 100, prior_lp=-3.0) for i in range(20)]
            + [dict(_signals(f"w{i}", 0.8, 0.9, False), evidence_lp=-2.5 - i / 100, prior_lp=-3.0) for i in range(10)])
    three, add = featurizer(FEATURE_SETS["three"]), featurizer(FEATURE_SETS["add"])
    weights = fit(rows, featurize=add)
    assert weights[3] > 0  # a likelier answer given the passage: more probably right
    assert [decide(r, weights, best_threshold(rows, weights, add), add) for r in rows] == ["right"] * 20 + ["refused"] * 10
    assert cross_validated(rows, featurize=add).count("wrong") == 0
    assert cross_validated(rows, featurize=three).count("wrong") > 0  # without it the wrong ones pass


@pytest.mark.parametrize(("grown", "expected"), [
    (False, {"three": (137, 107), "evidence": (132, 117), "add": (132, 121), "replace": (129, 121),
             "prior": (134, 109)}),  # session 26 ("evidence": the engine's since session 29)
    (True, {"three": (159, 121), "evidence": (160, 130), "add": (157, 132), "replace": (152, 122),
            "prior": (159, 122)}),  # 274 / 250
])
def test_the_readme_figures_of_the_evidence_likelihood_come_from_the_stored_runs(grown: bool, expected: dict) -> None:  # type: ignore[type-arg]
    from eval.bench.calibration import stored_rows
    from eval.bench.likelihood import compare, with_likelihoods
    from eval.bench.relook import merge_lines

    results = Path(__file__).resolve().parents[1] / "eval" / "bench" / "results" / "news"
    added = ("new80c_keep_all",) if grown else ()
    read = {}
    for name in ("likelihood_tune_keep_all", "likelihood_report_keep_all", *(f"likelihood_{a}" for a in added)):
        read.update(merge_lines((results / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()))
    tune = with_likelihoods(stored_rows([results / f"{f}.json" for f in (
        "tune_local_thresholds_off_chunk_offsets", "tune_local_new_questions_keep_all",
        "tune_local_new80_keep_all", "tune_local_new80b_keep_all", *(f"tune_local_{a}" for a in added))]), read)
    report = with_likelihoods(stored_rows([results / f"{f}.json" for f in (
        "report_local_first70_keep_all", "report_local_new_questions_keep_all",
        "report_local_new80_keep_all", "report_local_new80b_keep_all", *(f"report_local_{a}" for a in added))]), read)
    out = compare(tune, report)
    scores = {name: (figures["tune_cross_validated"]["score"], figures["report"]["score"])  # type: ignore[index]
              for name, figures in out.items()}
    assert scores == expected


def test_the_readme_figures_of_the_continued_look_come_from_the_stored_runs() -> None:
    from eval.bench.calibration import stored_rows
    from eval.bench.relook import merge_lines, refitted

    results = Path(__file__).resolve().parents[1] / "eval" / "bench" / "results" / "news"
    tune = stored_rows([results / f for f in (
        "tune_local_thresholds_off_chunk_offsets.json", "tune_local_new_questions_keep_all.json",
        "tune_local_new80_keep_all.json", "tune_local_new80b_keep_all.json")])
    read = merge_lines((results / "continued_tune_keep_all.jsonl").read_text(encoding="utf-8").splitlines())
    [line] = refitted(tune, list(read.values()), ["continued"])
    assert "right 94, unanswerable refused 55, wrong 15 of 109, score 119 against 137" in line


# Sets answered with ``RAG_MIN_ANSWER_PROBABILITY=0`` (every answer kept): each row carries its one
# probability, so the default's outcome is the same rows at 0.67. The README quotes both. On the seeds
# (session 30) the reader is right on 24 of 29, and the probability fitted on the CNN archive passes 15 of
# them; on the multilingual set (session 31) it passes every right answer, but also 3 of the 7 near-misses
# (a duration for a date, visitors for employees, the project's cost for the fare), the first two refused
# by the separate thresholds of 2026-12-03.
KEPT_ALL_SETS = {  # file: (rows, (right, wrong, near-misses refused) kept all, the same at the default it was
    # answered by, that default's threshold). Each answer's probability is stored as the engine of the time
    # computed it: the sets answered before session 35 read the second look with its own system prompt,
    # those answered in sessions 35-36 the choice line's most likely digit. None: today's default.
    "seeds_dev_local_keep_all.jsonl": (36, (24, 1, 5), (15, 1, 7), SESSION_29_DEFAULT),
    # session 35, answered again: the same 24 right; s20 and s21 (0.67, 0.71) fall below the new 0.73
    "seeds_dev_local_keep_all_look_in_prefix.jsonl": (36, (24, 1, 5), (13, 1, 7), SESSION_35_DEFAULT),
    # session 37, answered again at today's default (every sentence number counts): the same 13 right and
    # 7/7 refused; kept all, s04 now says "UK", which its must list ("U.K.") does not hold
    "seeds_dev_local_keep_all_choice_mass.jsonl": (36, (23, 2, 5), (13, 1, 7), None),
    "multilingual_dev_local_keep_all.jsonl": (25, (15, 2, 3), (15, 2, 4), SESSION_29_DEFAULT),
    # session 32, a fresh set in 12 other languages whose near-misses ask a fact of a kind the article
    # states: 39/48 right, but 11 of its 24 near-misses answered at the default
    "multilingual_holdout_local_keep_all.jsonl": (72, (39, 4, 7), (39, 2, 13), SESSION_29_DEFAULT),
    # session 34, 12 more languages: the reader is right on Greek, Finnish, Romanian and Swedish facts and
    # fails on Thai, Hebrew, Bengali and Persian ones; 10 of 12 never-stated details refused, 6 of 12 siblings
    "multilingual_holdout2_local_keep_all.jsonl": (72, (23, 13, 10), (20, 6, 16), SESSION_29_DEFAULT),
    # session 36, the three answered again at session 35's default: the same right answers, and 1, 2 and 2 more
    # near-misses refused than at session 29's (the second fresh set: 10 of 12 never-stated, 8 of 12 siblings)
    "multilingual_dev_local_keep_all_look_in_prefix.jsonl": (25, (15, 2, 3), (15, 2, 5), SESSION_35_DEFAULT),
    "multilingual_holdout_local_keep_all_look_in_prefix.jsonl": (72, (39, 4, 7), (39, 2, 15), SESSION_35_DEFAULT),
    "multilingual_holdout2_local_keep_all_look_in_prefix.jsonl": (72, (23, 14, 10), (20, 6, 18), SESSION_35_DEFAULT),
    # session 38, the three answered again at today's default (every sentence number counts): every answer
    # kept as in session 36 (the same 15, 39 and 23 right); one more near-miss refused in each set, none right lost
    "multilingual_dev_local_keep_all_choice_mass.jsonl": (25, (15, 2, 3), (15, 2, 6), None),
    "multilingual_holdout_local_keep_all_choice_mass.jsonl": (72, (39, 4, 7), (39, 2, 16), None),
    "multilingual_holdout2_local_keep_all_choice_mass.jsonl": (72, (23, 14, 10), (20, 6, 19), None),
    # session 39, a Chinese archive at the CNN archive's scale (UHGEval, 1,861 articles), answered once:
    # nothing chosen on it; 3 of its 12 near-misses pass at the default, each with a sibling's fact
    "news_zh_local_keep_all.jsonl": (40, (19, 6, 4), (15, 2, 9), None),
    # answered again after the chunks were cut at Chinese sentence ends and never inside a number (the fault
    # this set showed, so no longer held out): the two half-right answers refused, one near-miss more answered
    "news_zh_local_keep_all_clause_chunks.jsonl": (40, (19, 3, 4), (14, 0, 8), None),
    # session 40, the same questions in English over the Chinese archive, with RAG_EMBED_BACKEND=e5 (before the
    # keyword vote followed the question's coverage): the search finds the gold article among the 4 read for
    # 23 of 28, the reader's draft is right on 9, and the guards refuse every answer (English names and words
    # are never in the Chinese sentences cited)
    "news_zh_en_local_keep_all_e5.jsonl": (40, (0, 0, 12), (0, 0, 12), None),
    # answered again after names of the question's script went unchecked over an article in another script
    # (``citations.unchecked_script``) and the keyword vote followed coverage: numbers and the short answer
    # are still checked; one near-miss passes (a count the article never gives, 0.78)
    "news_zh_en_local_keep_all_e5_unchecked.jsonl": (40, (13, 3, 6), (9, 0, 11), None),
    # session 42, answered again (after the amounts guard), and once with the answer line held to Latin script
    # (measured, not adopted): the same outcomes; held to the asker's script, the model mistranslates amounts
    "news_zh_en_local_keep_all_e5_session42.jsonl": (40, (13, 0, 7), (9, 0, 11), None),
    "news_zh_en_local_keep_all_e5_latin_answer_line.jsonl": (40, (13, 0, 7), (9, 0, 11), None),
    # session 41, questions in other languages over the CNN archive with e5, every answer kept (judged with the
    # English must lists: a right answer in Spanish, "26 meses", counts as wrong). Asked in Spanish and Russian:
    "news_holdout4_es_ru_local_keep_all_e5.jsonl": (30, (6, 11, 0), (3, 1, 0), None),
    # in French and German: every German question refused, its capitalised nouns ("Prozent") in no article
    "news_holdout3_fr_de_local_keep_all_e5.jsonl": (30, (7, 1, 0), (7, 0, 0), None),
    # answered again after a question in another language was asked only for the names the archive uses
    # (``asks_about_cited``): 7 German and 2 French answers freed, none wrong; the Spanish set's new wrong answer
    # at the default (es_q012, 0.91) names only words the archive uses: another generation, not the rule
    "news_holdout3_fr_de_local_keep_all_e5_archive_words.jsonl": (30, (16, 1, 0), (12, 0, 0), None),
    "news_holdout4_es_ru_local_keep_all_e5_archive_words.jsonl": (30, (8, 14, 0), (3, 2, 0), None),
    # session 42, answered again after the question's words the archive does not write as names ("Formate",
    # "Herde": English writes them in lower case) and the asker's function words ("Des") went unlooked-for in
    # the answer too (``citations.unchecked_names``): two German answers freed at the default, none wrong
    "news_holdout3_fr_de_local_keep_all_e5_asker_words.jsonl": (30, (20, 2, 0), (14, 0, 0), None),
    "news_holdout4_es_ru_local_keep_all_e5_asker_words.jsonl": (30, (7, 13, 0), (3, 1, 0), None),
    # the two multilingual sets with Chinese and Japanese articles, answered again with those chunks: the same outcomes
    "multilingual_dev_local_keep_all_clause_chunks.jsonl": (25, (15, 2, 3), (15, 2, 6), None),
    "multilingual_holdout_local_keep_all_clause_chunks.jsonl": (72, (39, 4, 7), (39, 2, 16), None),
    # session 36, the HotpotQA 200 (Wikipedia passages, two-hop questions; docs/evaluation.md)
    "../qa-hotpotqa-keep-all-look-in-prefix-200/results.jsonl": (200, (45, 9, 93), (31, 5, 99), SESSION_35_DEFAULT),
    # session 38, answered again at today's default: the same outcomes kept all; two right answers fall below 0.73
    "../qa-hotpotqa-keep-all-choice-mass-200/results.jsonl": (200, (45, 9, 93), (29, 5, 99), None),
}


@pytest.mark.parametrize("name", KEPT_ALL_SETS)
def test_sets_answered_with_every_answer_kept_give_the_default_by_their_stored_probability(name: str) -> None:
    import json

    rows = [json.loads(line) for line in (NEWS_RESULTS / name).read_text().splitlines()]

    def counts(threshold: float) -> tuple[int, int, int]:
        shown = [r for r in rows if not r["refused"] and r["answer_probability"] >= threshold]
        right = sum(not r["unanswerable"] and r["metrics"]["correct"] for r in shown)
        wrong = sum(not r["unanswerable"] and not r["metrics"]["correct"] for r in shown)
        return right, wrong, sum(r["unanswerable"] for r in rows) - sum(r["unanswerable"] for r in shown)

    from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY

    size, kept_all, default, threshold = KEPT_ALL_SETS[name]
    assert len(rows) == size
    assert counts(0.0) == kept_all
    assert counts(TUNED_MIN_ANSWER_PROBABILITY if threshold is None else threshold) == default


def _newly_refused_by_the_number_guard(row: dict) -> bool:
    """Whether today's number guard refuses a stored answer the guard before it passed: its answer or its
    short answer states an amount the sentences it cites do not hold, though they hold its digits."""
    from rag.numerals import spelled_numbers, unheld_numbers
    from rag.text import numbers

    quoted = " ".join(citation["quote"] for citation in row["citations"])
    digits = numbers(quoted) | spelled_numbers(quoted)
    return any(unheld_numbers(text, quoted) and numbers(text) <= digits
               for text in (row["answer"], row.get("short") or "") if text)


def test_the_magnitude_guard_refuses_amounts_lost_in_translation_and_moves_no_other_stored_answer() -> None:
    """Since session 41 an amount is read with its scale (``rag.numerals.quantities``). Over the Chinese
    archive the reader wrote 亿 (10^8) as "billion" for three questions and a near-miss (500亿 as "500
    billion"); the guard that compared digits passed them all. Every other stored answer (the seeds, the
    multilingual sets, the Chinese archive, the HotpotQA 200s) is as its run kept it."""
    import json

    moved: dict[str, set[str]] = {}
    for path in sorted(NEWS_RESULTS.parent.glob("**/*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
        shown = [row for row in rows if row.get("answer") and row.get("citations") and not row.get("refused")]
        if refused := {row["id"] for row in shown if _newly_refused_by_the_number_guard(row)}:
            moved[path.name] = refused
    assert moved == {"news_zh_en_local_keep_all_e5_unchecked.jsonl": {"ez01", "ez12", "ez23", "ez36"}}
    rows = [json.loads(line) for line in (NEWS_RESULTS / "news_zh_en_local_keep_all_e5_unchecked.jsonl").open()]
    kept = [row for row in rows if not row["refused"] and row["id"] not in moved["news_zh_en_local_keep_all_e5_unchecked.jsonl"]]
    right = sum(not row["unanswerable"] and row["metrics"]["correct"] for row in kept)
    wrong = sum(not row["unanswerable"] and not row["metrics"]["correct"] for row in kept)
    near_misses_refused = sum(row["unanswerable"] for row in rows) - sum(row["unanswerable"] for row in kept)
    assert (right, wrong, near_misses_refused) == (13, 0, 7)  # every answer kept; (13, 3, 6) before


DATASETS = NEWS_RESULTS.parents[2] / "datasets"
R4_FITS = {  # target: (mismatch weight, threshold, {stored run: (score, the default's score)}), session 34
    "written question": (0.058, 0.65, {"holdout3_local_keep_all.json": (74, 71),
                                       "holdout2_local_keep_all.json": (87, 86),
                                       "siblings2_local_keep_all.json": (62, 67),
                                       "holdout4_local_keep_all.json": (78, 74)}),
    "quoted sentences": (-0.334, 0.70, {"holdout3_local_keep_all.json": (74, 71),
                                        "holdout2_local_keep_all.json": (89, 86),
                                        "siblings2_local_keep_all.json": (76, 67),
                                        "holdout4_local_keep_all.json": (74, 74)}),
}


@pytest.mark.parametrize("target", R4_FITS)
def test_the_asked_thing_against_the_thing_the_evidence_names_was_fitted_as_registered(target: str) -> None:
    """R4 (session 34, registered before it was computed): the question's names and numbers missing
    from the evidence, which names another thing of their type instead, as a fifth input of the one
    probability fitted on news_dev's 524. The written-question form gets a weight of the wrong sign (a
    mismatch raises the probability) and gains only by its lower threshold, losing on the sibling set it
    was meant for; the quoted-sentence form has the right sign but ties the default on the fresh fourth
    holdout its adoption was registered on (74 against 74), so it was closed."""
    from eval.bench.qualifiers import fifth_signal, questions_of, quoted, scored, with_mismatch, written_questions
    from rag.calibration import AnswerWeights

    questions = questions_of([DATASETS / name for name in (
        "news_dev.jsonl", "news_holdout2.jsonl", "news_holdout3.jsonl", "news_siblings2.jsonl", "news_holdout4.jsonl")])
    read = quoted if target == "quoted sentences" else written_questions(NEWS_RESULTS / "roundtrip_keep_all.jsonl")
    weights, threshold = fifth_signal(with_mismatch(_with_likelihoods(TUNING_HALF + REPORT_HALF), questions, read))
    weight, expected_threshold, scores = R4_FITS[target]
    assert (weights[4], threshold) == (pytest.approx(weight, abs=0.005), expected_threshold)
    for name, (score, default_score) in scores.items():  # against the default of the time
        counted = scored(with_mismatch(_with_likelihoods((name,)), questions, read), weights, threshold,
                         SESSION_29_DEFAULT, AnswerWeights(*SESSION_29))
        assert (counted["score"], counted["baseline_score"]) == (score, default_score), name


def test_answers_are_counted_by_kind_of_question() -> None:
    from eval.bench.news import by_kind, kind_of

    rows = [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]
    kinds = {"a": kind_of(False, 1), "b": kind_of(False, 2), "c": kind_of(False, 1), "d": kind_of(True, 0)}
    assert by_kind(rows, ["right", "refused", "wrong", "refused"], kinds) == {
        "one fact": {"questions": 2, "right": 1, "refused": 0, "wrong": 1},
        "two or more facts": {"questions": 1, "right": 0, "refused": 1, "wrong": 0},
        "near-miss": {"questions": 1, "right": 0, "refused": 1, "wrong": 0}}


HOLDOUT_KINDS = {  # (questions, right, refused, wrong) at the default, by kind: one fact, two or more, near-miss
    "holdout_local_keep_all.json": ("news_holdout.jsonl", ((74, 47, 26, 1), (42, 11, 27, 4), (44, 0, 42, 2))),
    "holdout2_local_keep_all.json": ("news_holdout2.jsonl", ((74, 38, 31, 5), (42, 14, 26, 2), (44, 0, 44, 0))),
    "holdout3_local_keep_all.json": ("news_holdout3.jsonl", ((74, 45, 28, 1), (42, 13, 26, 3), (44, 0, 39, 5))),
    "holdout4_local_keep_all.json": ("news_holdout4.jsonl", ((72, 35, 35, 2), (44, 9, 34, 1), (44, 0, 40, 4))),
}


@pytest.mark.parametrize("name", HOLDOUT_KINDS)
def test_the_holdouts_by_kind_give_the_readme_s_figures(name: str) -> None:
    """The README's by-kind row: on one-fact questions the default is right on 55-65% and wrong on 2-9%
    of its answers; questions asking two facts are answered far less often; stored rows, the default."""
    from eval.bench.news import by_kind, kinds_of, outcome_at_probability
    from eval.dataset import load_dataset
    from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY

    dataset, expected = HOLDOUT_KINDS[name]
    rows = _as_answered_today((name,))
    counted = by_kind(rows, [outcome_at_probability(r, TUNED_MIN_ANSWER_PROBABILITY) for r in rows],
                      kinds_of(load_dataset(DATASETS / dataset)))
    assert tuple(tuple(c.values()) for c in counted.values()) == expected


def test_the_model_does_not_know_the_news_answers_closed_book() -> None:
    """docs/evaluation.md's memorisation figure: asked with no article, the local model states none of the
    holdouts' answers, so its confidence on CNN/DailyMail is not memory that fresh news would lack."""
    import json

    from eval.bench.closed_book import right_by_dataset

    rows = [json.loads(line) for line in (NEWS_RESULTS / "closed_book.jsonl").read_text(encoding="utf-8").splitlines()]
    counts = right_by_dataset(rows)
    assert (counts["news_holdout3"], counts["news_holdout4"], counts["seeds_dev"]) == ((0, 116), (0, 116), (2, 29))


SEARCH_RANK = "cited_search_rank.jsonl"  # session 39: each stored answer's cited article's place among 8 hits
RANK_SETS = {"holdout3_local_keep_all.json": "news_holdout3", "holdout4_local_keep_all.json": "news_holdout4",
             "holdout_local_keep_all.json": "news_holdout", "holdout2_local_keep_all.json": "news_holdout2",
             "siblings_local_keep_all.json": "news_siblings", "siblings2_local_keep_all.json": "news_siblings2"}
# (score with the rank, score at the default): the registered pair first, then the four sets it was not decided on
RANK_SCORES = {"holdout3_local_keep_all.json": (79, 79), "holdout4_local_keep_all.json": (72, 70),
               "holdout_local_keep_all.json": (80, 86), "holdout2_local_keep_all.json": (82, 82),
               "siblings_local_keep_all.json": (48, 54), "siblings2_local_keep_all.json": (69, 73)}


def test_the_cited_article_s_search_rank_tells_right_from_wrong_no_better_than_chance_and_was_not_adopted() -> None:
    """Session 39 (eval/EXPERIMENTS.md): the search rank of the cited article costs nothing at answer time,
    so as a fifth feature of the one probability it might refuse wrong answers the model's own signals pass.
    It passed its registered rule by the least it allows (holdouts 3 and 4: 151 against 149), but it tells
    right from wrong no better than chance, and on the four other stored sets, none of them seen by its fit,
    it loses 16 points (later-ranked citations let wrong answers through): not adopted."""
    import json

    from eval.bench.calibration import best_threshold, decide, figures, fit
    from eval.bench.likelihood import FEATURE_SETS, featurizer
    from eval.bench.news import outcome, outcome_at_probability, refused_anyway
    from eval.metrics import roc_auc
    from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY

    ranks = {row["key"]: row["rank"] for row in map(json.loads, (NEWS_RESULTS / SEARCH_RANK).read_text().splitlines())}

    def ranked(names: tuple[str, ...], dataset: str) -> list[dict]:  # type: ignore[type-arg]
        return [{**r, "rank": ranks.get(f"{dataset}:{r['id']}", 1)} for r in _as_answered_today(names)]

    evidence = featurizer(FEATURE_SETS["evidence"])

    def with_rank(row: dict) -> list[float]:  # type: ignore[type-arg]
        return evidence(row)[:-1] + [math.log(row["rank"]), 1.0]

    dev = ranked(TUNING_HALF + REPORT_HALF, "news_dev")
    decided = [r for r in dev if not refused_anyway(r) and outcome(r) != "refused"]
    assert roc_auc([outcome(r) == "right" for r in decided], [-math.log(r["rank"]) for r in decided]) == pytest.approx(0.483, abs=0.005)
    weights = fit(dev, featurize=with_rank)
    threshold = best_threshold(dev, weights, with_rank)
    scores = {}
    for name, dataset in RANK_SETS.items():
        rows = ranked((name,), dataset)
        result = figures(rows, [decide(r, weights, threshold, with_rank) for r in rows],
                         [outcome_at_probability(r, TUNED_MIN_ANSWER_PROBABILITY) for r in rows])
        scores[name] = (result["score"], result["baseline_score"])
    assert scores == RANK_SCORES


def test_the_multilingual_embedding_finds_what_minilm_finds_in_english_and_far_more_across_languages() -> None:
    """Session 40 (``eval/bench/embedders.py``): recall of a gold article among the passages read (4),
    hybrid search, per archive and question set; the README and docs/evaluation.md quote these."""
    import json

    rows = {(r["archive"], r["backend"]): r for r in
            map(json.loads, (NEWS_RESULTS / "embedders.jsonl").read_text().splitlines())}

    def at(archive: str, backend: str, questions: str, depth: int = 4, mode: str = "hybrid") -> float:
        return rows[(archive, backend)]["recall"][questions][mode][f"recall@{depth}"]

    english = ("news_dev", "news_holdout", "news_holdout2", "news_holdout3", "news_holdout4")
    assert [at("cnn", "minilm", q, 1) for q in english] == [0.943, 0.957, 0.948, 0.991, 0.879]
    assert [at("cnn", "e5", q, 1) for q in english] == [0.95, 0.948, 0.957, 0.991, 0.905]
    assert (at("zh", "minilm", "news_zh", 1), at("zh", "e5", "news_zh", 1)) == (0.714, 1.0)
    assert (at("zh", "minilm", "news_zh_en"), at("zh", "e5", "news_zh_en")) == (0.143, 0.857)
    # Held out (session 40, news_holdout4's questions in Spanish and Russian, written after the keyword vote
    # was chosen): e5 finds them; BM25's shrunken vote changes nothing with e5, and with MiniLM it lost
    # the Russian ones, so MiniLM keeps equal votes.
    held = json.loads((NEWS_RESULTS / "embedders_es_ru.json").read_text())
    assert [held[f"{b}/{lang}"]["dense"]["recall@4"] for b in ("minilm", "e5") for lang in ("es", "ru")] == [0.6, 0.067, 1.0, 1.0]
    assert held["e5/es"]["hybrid"] == held["e5/es"]["hybrid_equal_votes"] and held["e5/ru"]["hybrid"] == held["e5/ru"]["hybrid_equal_votes"]
    assert [rows[(a, b)]["ingest"]["seconds"] for a, b in rows] == [321.7, 1349.5, 434.1, 1123.4]


def test_the_question_s_own_stop_words_out_of_coverage_tied_and_was_left_out() -> None:
    """C1, session 41 (eval/EXPERIMENTS.md): registered with a fresh French and German set. Coverage fell, the
    fused search's recall did not move on either set, so the keyword vote still counts every token BM25 keeps."""
    import json

    runs = json.loads((NEWS_RESULTS / "cross_language_coverage_c1.json").read_text())
    for questions in ("news_holdout3_fr_de", "news_holdout4_es_ru"):
        assert runs[f"{questions}/today"]["hybrid"] == runs[f"{questions}/c1"]["hybrid"]
    assert runs["news_holdout3_fr_de/today"]["hybrid"]["recall@1"] == 1.0
    assert runs["news_holdout3_fr_de/today"]["dense"]["recall@1"] == 0.967
    assert sum(runs["news_holdout3_fr_de/c1"]["coverage"]) < sum(runs["news_holdout3_fr_de/today"]["coverage"])
    assert runs["news_dev_first60_coverage_unchanged"] is True


def _short_words(row: dict) -> float:  # type: ignore[type-arg]
    from rag.text import word_count

    return math.log(1 + word_count(row.get("short") or ""))


def _short_verbatim(row: dict) -> float:  # type: ignore[type-arg]
    short = (row.get("short") or "").lower().strip(" .")
    return float(any(short and short in quote.lower() for quote in row.get("quotes") or []))


# Session 41's fifth inputs, each registered before the unseen sets were scored (eval/EXPERIMENTS.md):
# (input, its fitted weight's sign, threshold, six unseen sets' score, the default's there)
FIFTH_INPUTS = {"L1 short answer's length": (_short_words, -1, 0.74, 436, 444),
                "V1 short answer verbatim in a quote": (_short_verbatim, -1, 0.73, 444, 444)}


@pytest.mark.parametrize("name", FIFTH_INPUTS)
def test_session_41_fifth_inputs_gained_nothing_on_the_unseen_sets_they_named(name: str) -> None:
    """Fitted with the four inputs on news_dev's 524, threshold by score there; each needed the six unseen
    stored sets (holdouts 1-4, siblings 1-2) to score at least 4 above the default. L1, the short answer's
    length, was weighed against the answer and lost 8; V1, the short answer copied verbatim from a quoted
    sentence (AUROC 0.58 alone, +1 to +13 cross-validated on news_dev), tied: the other inputs already carry
    it (its fitted weight is even slightly negative). Neither adopted."""
    from eval.bench.calibration import best_threshold, decide, figures, fit
    from eval.bench.likelihood import FEATURE_SETS, featurizer
    from eval.bench.news import outcome_at_probability
    from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY

    signal, sign, expected_threshold, expected, default = FIFTH_INPUTS[name]
    evidence = featurizer(FEATURE_SETS["evidence"])

    def with_fifth(row: dict) -> list[float]:  # type: ignore[type-arg]
        return evidence(row)[:-1] + [signal(row), 1.0]

    dev = _as_answered_today(TUNING_HALF + REPORT_HALF)
    weights = fit(dev, featurize=with_fifth)
    threshold = best_threshold(dev, weights, with_fifth)
    assert math.copysign(1, weights[4]) == sign and threshold == expected_threshold
    scores = []
    for stored in RANK_SETS:
        rows = _as_answered_today((stored,))
        result = figures(rows, [decide(r, weights, threshold, with_fifth) for r in rows],
                         [outcome_at_probability(r, TUNED_MIN_ANSWER_PROBABILITY) for r in rows])
        scores.append((result["score"], result["baseline_score"]))
    assert (sum(s for s, _ in scores), sum(b for _, b in scores)) == (expected, default)


@pytest.mark.parametrize(("name", "figures"), [
    ("multilingual_holdout2_local_s55_baseline.jsonl", (25, 48, 18, 24, 9, 34, 25)),
    ("multilingual_holdout2_local_s55_chunks_in_words.jsonl", (22, 48, 18, 24, 15, 37, 10)),
    # session 57 (EXPERIMENTS.md): its baseline, two tokens a word (not adopted), and no dense vote (adopted)
    ("multilingual_holdout2_local_s56_whole_words.jsonl", (26, 48, 15, 24, 12, 38, 17)),
    ("multilingual_holdout2_local_s57_chunks_two_tokens_a_word.jsonl", (25, 48, 16, 24, 14, 39, 13)),
    ("multilingual_holdout2_local_s57_dense_vote.jsonl", (26, 48, 17, 24, 11, 37, 21)),
])
def test_chunks_counted_in_words_failed_their_rule_on_the_second_multilingual_holdout(name: str,
                                                                                        figures: tuple[int, ...]) -> None:
    """C5 (EXPERIMENTS.md, session 55): the table's figures follow from the stored rows of the two runs:
    right citing the gold article, near-misses refused, wrong of the answers given, and the registered score."""
    import json

    from tests.conftest import REPO

    dataset = REPO / "eval" / "datasets" / "multilingual_holdout2.jsonl"
    gold = {item["id"]: item for item in map(json.loads, dataset.read_text(encoding="utf-8").splitlines())}
    rows = [json.loads(line) for line in (NEWS_RESULTS / name).read_text(encoding="utf-8").splitlines()]
    answerable = [r for r in rows if not gold[r["id"]]["unanswerable"]]
    near_misses = [r for r in rows if gold[r["id"]]["unanswerable"]]
    right = sum(1 for r in answerable if not r["refused"] and r["metrics"]["correct"]
                and {c["source"] for c in r["citations"]} & set(gold[r["id"]]["sources"]))
    wrong = sum(1 for r in answerable if not r["refused"] and not r["metrics"]["correct"]) \
        + sum(1 for r in near_misses if not r["refused"])
    refused = sum(1 for r in near_misses if r["refused"])
    given = sum(1 for r in rows if not r["refused"])
    assert (right, len(answerable), refused, len(near_misses), wrong, given, right + refused - 2 * wrong) == figures
