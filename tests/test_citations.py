"""Text helpers behind citing and judging: sentences, claims, support scores, excerpts."""

from __future__ import annotations

from rag.citations import split_claims
from rag.context import Source
from rag.citations import support_score
from rag.text import split_sentences, word_coverage
from rag.types import Hit

PASSAGES = {
    "brest.txt": "The port of Brest closed on Monday after winds reached 140 km/h, the mayor said.",
    "quotas.txt": "About 300 fishermen blocked the road to the ministry to protest against new fishing quotas.",
}


def sources() -> list[Source]:
    result = []
    for n, (name, text) in enumerate(PASSAGES.items(), start=1):
        offset = 100 * n  # the passage sits somewhere inside its article
        hit = Hit(chunk_id=f"{name}:0", doc_id=name, text=text, start=offset, end=offset + len(text), score=1.0,
                  title=name.removesuffix(".txt").title(), source_name=name)
        result.append(Source(n, hit, text, offset, offset + len(text), 1.0))
    return result


def _source(n: int, name: str, text: str) -> Source:
    hit = Hit(chunk_id=f"{name}:0", doc_id=name, text=text, start=0, end=len(text), score=1.0,
              title=name.removesuffix(".txt").title(), source_name=name)
    return Source(n, hit, text, 0, len(text), 1.0)


def test_wrong_number_is_not_supported() -> None:
    assert support_score("Winds reached 160 km/h in Brest", PASSAGES["brest.txt"]) == 0.0
    assert support_score("Winds reached 140 km/h in Brest", PASSAGES["brest.txt"]) == 1.0


def test_wrong_name_is_not_supported() -> None:
    assert support_score("The port of Calais closed on Monday", PASSAGES["brest.txt"]) == 0.0


def test_transliteration_variants_of_a_name_match() -> None:
    passage = "Zelenskyy met Trump in Paris."
    assert support_score("Zhukov met Trump", passage) == 0.0  # another person: unsupported
    assert support_score("Zelensky met Trump", passage) > 0.5  # the same person, spelt another way


def test_split_claims_keeps_markers_with_their_sentence() -> None:
    claims = split_claims('He said "no." [2] U.S. aid rose [1][3]. Done')
    assert [(c.text, c.markers) for c in claims] == [('He said "no."', (2,)), ("U.S. aid rose.", (1, 3)),
                                                    ("Done", ())]


def test_sentence_offsets_are_exact() -> None:
    text = "Mr. Trump met Mr. Zelensky in Paris. The U.S. gave $64.1 billion.\nHeadline without stop\nLast one!"
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["Mr. Trump met Mr. Zelensky in Paris.", "The U.S. gave $64.1 billion.",
                                       "Headline without stop", "Last one!"]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_a_rank_or_title_before_a_name_ends_no_sentence() -> None:
    """"Staff Sgt." and "Lt." were sentences of their own, so a quote said "Lt." and the next one "Col."."""
    spans = split_sentences("Staff Sgt. Robert Bales was charged. Lt. Col. Ann Ray said so. The Rev. Al Sharpton spoke.")
    assert [s.text for s in spans] == ["Staff Sgt. Robert Bales was charged.", "Lt. Col. Ann Ray said so.",
                                       "The Rev. Al Sharpton spoke."]


def test_an_initial_in_a_text_that_ends_sentences_with_a_danda_ends_no_sentence() -> None:
    """"एस. जयशंकर" (S. Jaishankar) was cut after "एस.", so the cited sentence lost its subject; Hindi ends a
    sentence with "।", and no capital letter tells its initials apart."""
    spans = split_sentences("विदेश मंत्री एस. जयशंकर ने सोमवार को कहा कि भारत तैयार है। डॉ. शर्मा ने भी यही कहा।")
    assert [s.text for s in spans] == ["विदेश मंत्री एस. जयशंकर ने सोमवार को कहा कि भारत तैयार है।",
                                       "डॉ. शर्मा ने भी यही कहा।"]


def test_excerpt_grows_towards_the_more_relevant_neighbour() -> None:
    from rag.context import build_sources

    text = ("Trump urged an immediate ceasefire and the start of negotiations to end the war, calling it madness. "
            "His remarks came after he met Zelenskyy in Paris, their first face-to-face discussion. "
            "The meeting took place at the Elysee Palace in the presence of Macron.")
    hit = Hit(chunk_id="p:0", doc_id="p", text=text, start=0, end=len(text), score=1.0, title="P", source_name="p")

    def scorer(question: str, sentences: list[str]) -> list[float]:
        return [0.2, 0.9, 0.6]  # the middle sentence is best; the Elysee one is the better neighbour

    (source,) = build_sources("Where did they meet in Paris?", [hit], scorer, budget_chars=240)
    assert source.text.startswith("His remarks") and source.text.endswith("presence of Macron.")


def test_excerpts_far_less_relevant_than_the_best_are_left_out_and_the_rest_renumbered() -> None:
    from rag.context import build_sources

    texts = ["Markets were calm on Monday.", "Talks were held in Istanbul in 2022.", "Later talks took place in Abu Dhabi."]
    hits = [Hit(chunk_id=f"h{i}", doc_id=f"d{i}", text=t, start=0, end=len(t), score=1.0, title="T",
                source_name=f"d{i}.txt") for i, t in enumerate(texts)]
    relevance = {texts[0]: 0.2, texts[1]: 0.9, texts[2]: 0.7}

    def scorer(question: str, sentences: list[str]) -> list[float]:
        return [relevance[s] for s in sentences]

    kept = build_sources("Where were talks held?", hits, scorer, margin=0.3)
    assert [(s.n, s.hit.chunk_id) for s in kept] == [(1, "h1"), (2, "h2")]  # 0.2 is 0.7 below the best
    assert len(build_sources("Where were talks held?", hits, scorer)) == 3  # no margin: every hit


def test_word_coverage_counts_shared_content_words_without_a_name_veto() -> None:
    passage = PASSAGES["brest.txt"]
    assert word_coverage("The port of Brest closed on Monday", passage) == 1.0
    # One unknown name lowers the share; support_score would reject the whole sentence for it.
    partial = word_coverage("The port of Brest closed on Monday, Jean Dupont said", passage)
    assert 0.5 < partial < 1.0 and support_score("The port of Brest closed on Monday, Jean Dupont said",
                                                 passage) == 0.0
    assert word_coverage("Fishermen protested", passage) == 0.0
    assert word_coverage("", passage) == 1.0  # nothing claimed, nothing unsupported


CHINESE_EVIDENCE = "25名美国众议员联名致信日本驻美大使，敦促安倍正视历史问题。"


def test_names_of_the_question_s_script_go_unchecked_only_over_an_article_in_another_script() -> None:
    from rag.citations import Unchecked, unchecked_names, unsupported_facts

    question = "How many US congressmen wrote to Japan's ambassador before Abe's speech?"
    assert unchecked_names(question, CHINESE_EVIDENCE) == Unchecked(script="LATIN")
    assert not unchecked_names(question, PASSAGES["brest.txt"], lambda word: False)  # same script and language
    claim = "25 US congressmen wrote to Japan's ambassador, urging Abe to face history."
    assert unsupported_facts(claim, CHINESE_EVIDENCE) != []  # "Japan" and "Abe" are not in the Chinese text
    assert unsupported_facts(claim, CHINESE_EVIDENCE, unchecked=Unchecked(script="LATIN")) == []
    # Numbers are checked whatever the scripts: 35 congressmen is not what the article says.
    assert unsupported_facts(claim.replace("25", "35"), CHINESE_EVIDENCE, unchecked=Unchecked(script="LATIN")) == ["35"]
    # In one script nothing changes: a name the English article never mentions is still missing.
    assert unsupported_facts("The port of Calais closed.", PASSAGES["brest.txt"],
                             unchecked=unchecked_names("Which port closed?", PASSAGES["brest.txt"])) == ["calai"]


def test_a_question_in_another_script_than_its_article_is_not_refused_for_names_it_cannot_find() -> None:
    from rag.answering import asks_about_cited
    from rag.citations import Unchecked

    question = "How many US congressmen wrote to Japan's ambassador before Abe's speech?"
    articles = {"zh.txt": CHINESE_EVIDENCE}
    assert not asks_about_cited(question, ["zh.txt"], articles)
    assert asks_about_cited(question, ["zh.txt"], articles, unchecked=Unchecked(script="LATIN"))
    assert not asks_about_cited("When did the port of Calais close?", ["brest.txt"], PASSAGES)


# Hand-written sentences of many scripts, with Latin names, acronyms and numbers glued to words of scripts
# written without spaces (Korean particles, Japanese kana, Chinese and Thai runs).
SELF_SUPPORTED = [
    "BTS는 13일 부산 아시아드 주경기장에서 데뷔 11주년 기념 콘서트를 열었다.",
    "LG전자는 2024년 3분기 매출 22조원을 기록했다고 Samsung과 비교해 밝혔다.",
    "부산 신항 7부두는 연간 250만 TEU를 처리할 수 있으며 Maersk도 입주했다.",
    "NASAが発表した計画によると、Artemis計画の打ち上げは2026年になる。",
    "JAXAは17日、H3ロケット2号機を打ち上げ、費用は約50億円だった。",
    "佐々木朗希投手はDodgersと契約した。",
    "特斯拉Model Y销量第一，比亚迪Seal排名第二。",
    "Model Y销量第一，华为Mate60售出1080万部。",
    "据IDC报告，Apple第三季度出货量增长12%。",
    "Appleเปิดตัว iPhone รุ่นใหม่ในกรุงเทพฯ ราคา 39,900 บาท",
    "ค่าฝุ่น PM2.5 ในเชียงใหม่สูงถึง 150 ไมโครกรัม",
    "أعلنت شركة Siemens في القاهرة عن استثمار 500 مليون دولار.",
    "प्रधानमंत्री नरेंद्र मोदी ने Microsoft के साथ 15 मार्च को समझौता किया।",
    "Президент Зеленский встретился с главой Pfizer в Киеве 12 мая.",
    "İzmir Büyükşehir Belediyesi, Karşıyaka'da 1,2 kilometrelik köprüyü İSTANBUL firmasıyla açtı.",
    "Tuyến metro Nhổn - ga Hà Nội dài 8,5 km, do Alstom cung cấp tàu.",
    "Hãng Vingroup khai trương nhà máy VinFast tại Hải Phòng năm 2019.",
    "Volkswagen said its ID.3 plant in Zwickau built 250,000 cars in 2023, up 12%.",
]


def test_every_sentence_supports_itself() -> None:
    """A name or number is read as the same words wherever it is looked for: "BTS는" was one name to the
    name reader and "bts" + "는" to the word reader, so a right answer was refused against its own text."""
    from rag.citations import unsupported_facts

    for sentence in SELF_SUPPORTED:
        assert unsupported_facts(sentence, sentence) == [], sentence


def test_a_name_glued_to_an_unspaced_script_is_still_checked() -> None:
    """Cutting "NASAが" at the change of script keeps the name: another agency's article does not back it."""
    from rag.citations import unsupported_facts

    assert unsupported_facts("NASAが発表した。", "JAXAが発表した。") == ["nasa"]
    assert unsupported_facts("特斯拉Model Y销量第一。", "特斯拉Cybertruck销量第一。") == ["model"]
    assert unsupported_facts("Appleเปิดตัว", "Samsungเปิดตัว") == ["appl"]


def test_a_question_in_capitals_opens_with_a_capital_and_keeps_only_unknown_words_in_capitals() -> None:
    from rag.text import without_shouting

    common = {"which", "building", "did", "and", "meet", "in", "okulun", "toplam", "maliyeti"}
    assert without_shouting("IN WHICH BUILDING DID TRUMP AND ZELENSKY MEET IN PARIS?", lambda w: w.lower() in common) \
        == "In which building did TRUMP and ZELENSKY meet in PARIS?"
    assert without_shouting("OKULUN TOPLAM MALİYETİ?", lambda w: w.lower() in common) == "Okulun toplam maliyeti?"
    assert without_shouting("What did NATO say?", lambda w: True) == "What did NATO say?"  # lower case: as written
    for as_written in ("ターミナルビルの改修やCIQ施設の整備に投じられた費用は？", "东航MU758航班接回了多少名旅客？", "NATO?"):
        assert without_shouting(as_written, lambda w: True) == as_written  # its few capitals are names
