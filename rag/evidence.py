"""Evidence first: the answerer names the sentences that answer the question (or none) before it writes.

The excerpts the model reads are split into numbered sentences. Its reply starts with the numbers of the
sentences that state the answer, or ``none``; a llama.cpp grammar allows nothing else on that line, so
the choice is always readable. The probability the model gave ``none`` at that first token (from the
server's logprobs) is how unsure it is that the excerpts answer the question: a calibrated threshold on
it decides abstention, instead of judging the finished prose by shared words afterwards. The answer's
``[n]`` markers are the sentences it chose, so a citation quotes exactly the evidence.

Everything here is pure: numbering, the grammar, parsing the reply and reading the confidence;
``rag.citations`` turns the choice into markers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from rag.context import Source
from rag.numerals import spelled_numbers, unheld_numbers
from rag.text import (SENTENCE_STOP, STOPWORDS, Span, content_word_sequence, content_words, coverage, names,
                      numbers, split_sentences, ends_in_chinese_or_japanese, writing_script)

MAX_PICKS = 3  # sentences one answer may rest on: a fact, or two facts of a two-part question


@dataclass(frozen=True)
class Sentence:
    """One numbered candidate sentence, with its offsets in its article."""

    n: int
    source: Source
    text: str
    start: int
    end: int


def is_headline(sentence: Sentence) -> bool:
    """Whether the sentence is its article's title line: the title alone on the article's first line. A
    feed item titled by its own first sentence (``rag.loading.lead_title``) has no title line: a space,
    not a line break, follows that sentence."""
    source = sentence.source
    if sentence.start != 0 or source.start != 0 or sentence.text.strip() != source.hit.title.strip():
        return False
    rest = source.text[sentence.end:]
    return not rest.strip() or rest.startswith(("\n", "\r"))


def number_sentences(sources: Sequence[Source]) -> list[Sentence]:
    """Every sentence of every excerpt, numbered 1..m in the order the prompt shows them
    (``render_sources`` shows the most relevant excerpt last, next to the question)."""
    numbered: list[Sentence] = []
    for source in reversed(sources):
        for span in split_sentences(source.text):
            numbered.append(Sentence(len(numbered) + 1, source, span.text,
                                     source.start + span.start, source.start + span.end))
    return numbered


_AFTER_CHOICE = ('"\\nShort:" short "\\nAnswer:" answer\n'
                 'short ::= [^\\n\\[]+\n'
                 'answer ::= [^\\n\\[]+\n')

TOP_LOGPROBS = 10  # alternatives read at the choice token: enough to hold "none" whenever it is likely


def evidence_grammar(sentences: int, allow_none: bool = True) -> str:
    """GBNF for the reply: ``none`` (if allowed), or up to ``MAX_PICKS`` sentence numbers, then a
    ``Short:`` line (the answer in a few words) and an ``Answer:`` line, without brackets (the markers
    are added from the choice)."""
    numbers_rule = " | ".join(f'"{n}"' for n in range(sentences, 0, -1))  # longest first: "12" before "1"
    more = "".join(f' ("," n' for _ in range(MAX_PICKS - 1)) + ")?" * (MAX_PICKS - 1)
    none = '"none" | ' if allow_none else ""
    return f'root ::= {none}n{more} {_AFTER_CHOICE}n ::= {numbers_rule}\n'


ANSWER_LINE_GRAMMAR = "root ::= [^\\n\\[]+\n"  # the answer line alone, without brackets


def written_prefix(picks: Sequence[int], short: str) -> str:
    """The reply up to its answer line, once the choice and the short answer are fixed: the engine
    sends it as the start of the assistant's turn (llama.cpp continues it), so it is read as prompt
    in one batch instead of being generated token by token under a grammar (0.9-1.5 s of the first
    token on a 2-core CPU, 2026-12-04)."""
    return ",".join(str(n) for n in picks) + "\nShort: " + short + "\nAnswer:"


def anchor(short: str, question: str, picks: Sequence[Sentence], shown: Sequence[Sentence]) -> list[Sentence]:
    """The shown sentences that hold what ``short`` adds to the question: the chosen ones when they do,
    else the fewest others that do (at most ``MAX_PICKS``, greedily). A small model's choice line
    often names a neighbour of the sentence its answer comes from (on news_dev's tuning half, 20 of 43
    right answers rested on a chosen sentence without the answer), and a citation should quote the
    sentence that holds the answer. Empty when no shown sentence holds any of it.

    Between sentences holding as much of it, the one whose excerpt names more of the question's names
    wins, then the model's own choice: the answer is refused when the cited articles do not name what
    the question asks about (``asks_about_cited``), and "Emmanuel Macron" is held by a sentence of an
    article that says "President of France" as well as by one that says "French President", which the
    question says."""
    wanted = answer_words(short, question)
    ordered = list(picks) + [s for s in shown if s not in picks]  # the model's own choice wins ties
    if added_words(short, question):
        words = {id(s): said_words(with_title(s)) for s in ordered}
        own = {id(s): said_words(s.text) for s in ordered}
    else:  # the question's words in another order ("Burger King"): held only where they are so ordered
        words = {id(s): wanted if in_order_of(short, with_title(s)) else set() for s in ordered}
        own = {id(s): wanted if in_order_of(short, s.text) else set() for s in ordered}
    asked = names(question)
    covered = {id(s): coverage(asked, f"{s.source.hit.title}. {s.source.text}") for s in ordered}
    chosen: list[Sentence] = []
    while wanted and len(chosen) < MAX_PICKS:
        # A sentence that holds the answer itself before one that holds it only through its headline: a
        # headline stating it ("Ferry capsizes, killing 34") made every sentence of its article hold it,
        # and the model's loose pick ("carrying about 120 passengers") was quoted for "34 people".
        best = max(ordered, key=lambda s: (len(wanted & own[id(s)]), len(wanted & words[id(s)]), covered[id(s)]),
                   default=None)
        if best is None or not wanted & words[id(best)]:
            break
        chosen.append(best)
        wanted = wanted - words[id(best)]
        ordered.remove(best)
    return sorted(chosen, key=lambda s: s.n)


def with_title(sentence: Sentence) -> str:
    """A sentence with its headline: a short answer may take a name from the headline it was shown."""
    return f"{sentence.source.hit.title}. {sentence.text}"


VERDICT_GRAMMAR = 'root ::= "yes" | "no"'
CONTEXT_SENTENCES = 1  # the second look reads this many article sentences either side of each pick


def skips_second_look(short_confidence: float | None, skip_above: float | None) -> bool:
    """A short answer written at least ``skip_above`` surely needs no second look (None: always look).
    The engine (``rag.answering``) and the bench's threshold tables both decide with this."""
    return skip_above is not None and short_confidence is not None and short_confidence >= skip_above


def in_context(picks: Sequence[Sentence], articles: Mapping[str, str], width: int = CONTEXT_SENTENCES) -> str:
    """The chosen sentences as the second look reads them: each with its article's headline and the
    sentences either side. A sentence alone often names no one ("The meeting took place at Elysee
    Palace", "he dismissed the allegations"), and shown alone the second look refused right picks for a
    subject the article states one sentence earlier (news_dev tuning half and seeds_dev together:
    AUROC right vs wrong 0.67 alone, 0.71 in context). Without the stored article: the sentence.

    Two sentences either side, measured and not adopted (2026-12-03, tuning half, thresholds off): the
    second look's P(yes) rose by 0.06 on average for wrong answers and by 0.02 for right ones, so its
    AUROC fell from 0.83 to 0.77, and the default scored 59 against 58 (one refusal became right).

    The question's best other sentence of the same article added to the window, measured and not adopted
    (2026-12-03, the same picks re-read: ``eval.bench.relook``): the predicate often sits there, but P(yes)
    rose by 0.10 on average for wrong answers and 0.04 for right ones; AUROC 0.81 -> 0.71, the same score
    at the default (two more right answers, one more wrong)."""
    windows = [titled(pick, _window(pick, articles.get(pick.source.hit.doc_id, ""), width)) for pick in picks]
    return " ... ".join(dict.fromkeys(windows))


def titled(pick: Sentence, text: str) -> str:
    """``text`` from ``pick``'s article led by its headline (unless it already starts with it)."""
    title = pick.source.hit.title
    return f"{title}: {text}" if title and not text.startswith(title) else text


def window_bounds(pick: Sentence, spans: Sequence[Span], width: int) -> tuple[int, int] | None:
    """Indices ``[first, last)`` of the article sentences from ``width`` before ``pick`` to ``width``
    after it (article offsets); None when no sentence overlaps the pick."""
    inside = [i for i, span in enumerate(spans) if span.end > pick.start and span.start < pick.end]
    if not inside:
        return None
    return max(0, inside[0] - width), min(len(spans), inside[-1] + width + 1)


WINDOW_CHARS_EACH_SIDE = 600  # ~2 news sentences: a window is never longer than its pick and this either side


def _window(pick: Sentence, article: str, width: int) -> str:
    """The article's sentences from ``width`` before ``pick`` to ``width`` after it (article offsets),
    at most ``WINDOW_CHARS_EACH_SIDE`` either side of the pick. The pick is a sentence of an excerpt,
    so it is as long as a chunk at most, but the article's sentence around it need not be: one
    38,000-character list of share prices made the second look's prompt 11,861 tokens, beyond the
    model's context, and every question reading that article failed."""
    spans = split_sentences(article) if article else []
    bounds = window_bounds(pick, spans, width)
    if bounds is None:
        return pick.text
    start = max(spans[bounds[0]].start, pick.start - WINDOW_CHARS_EACH_SIDE)
    end = min(spans[bounds[1] - 1].end, pick.end + WINDOW_CHARS_EACH_SIDE)
    return " ".join(_within(article, span, start, end) for span in spans[bounds[0]:bounds[1]]
                    if span.end > start and span.start < end)


def _within(article: str, span: Span, start: int, end: int) -> str:
    """The part of a sentence inside ``[start, end)``, cut at spaces (an ellipsis marks a cut side)."""
    if start <= span.start and span.end <= end:
        return span.text
    first, last = max(span.start, start), min(span.end, end)
    text = article[first:last]
    if first > span.start and " " in text:
        text = "…" + text.split(" ", 1)[1]
    if last < span.end and " " in text:
        text = text.rsplit(" ", 1)[0] + "…"
    return text.strip()



@dataclass(frozen=True)
class Reply:
    """The model's reply, read: the sentences it chose (empty: none), its short and its full answer."""

    picks: tuple[int, ...]
    answer: str
    complete: bool  # the choice line has ended (or there is none), so ``picks`` is final
    chose: bool = True  # False: the reply has no choice line (a server that ignored the format)
    short: str | None = None  # the ``Short:`` line once it has ended; None while it streams or if absent


_PICK_LINE = re.compile(r"^\s*(?:evidence\s*:?\s*)?(none|\d+(?:\s*,\s*\d+)*)", re.I)
_MAYBE_PICK = re.compile(r"^\s*(?:e(?:v(?:i(?:d(?:e(?:n(?:c(?:e(?:\s*:?\s*)?)?)?)?)?)?)?)?)?(?:n(?:o(?:n(?:e)?)?)?|[\d,\s]*)$", re.I)
_SHORT = "short:"


def parse_reply(text: str, sentences: int) -> Reply:
    """Read ``"4,7\nShort: 140 km/h\nAnswer: ..."`` (also while it streams). Numbers outside
    1..``sentences`` are dropped; the ``Short:`` line may be missing (a server without the grammar).

    A reply that cannot be starting a choice line (a server without the grammar writing prose) is read
    at once as an answer without a choice, so it streams like any other."""
    first, newline, rest = text.partition("\n")
    match = _PICK_LINE.match(first)
    if not match:
        waiting = not newline and bool(_MAYBE_PICK.match(first))
        return Reply((), "" if waiting else text.strip(), complete=not waiting, chose=waiting)
    chosen = match.group(1)
    none = chosen.lower() == "none"
    picks = () if none else tuple(
        dict.fromkeys(n for n in (int(x) for x in chosen.split(",")) if 1 <= n <= sentences))
    after = (first[match.end():] + newline + rest).lstrip() if newline or none else ""
    short, answer = _split_short(after)
    answer = re.sub(r"^\s*answer\s*:\s*", "", answer, flags=re.I).strip()
    if "answer:".startswith(answer.lower()):  # "Ans" of a streaming "Answer:" is not yet answer text
        answer = ""
    return Reply(picks[:MAX_PICKS], answer, complete=bool(newline) or none, short=short)


def _split_short(after: str) -> tuple[str | None, str]:
    """``"Short: x\nAnswer: y"`` -> ("x", "Answer: y"). While the short line streams nothing of the answer
    is shown; text that is not a short line is all answer."""
    head = after[:len(_SHORT)].lower()
    if not _SHORT.startswith(head) or not head:
        return None, after
    line, newline, answer = after.partition("\n")
    if not newline:
        return None, ""
    return line[len(_SHORT):].strip(), answer


def confidence_from_logprobs(alternatives: Iterable[tuple[str, float]]) -> float | None:
    """How sure the model is that some shown sentence answers: P(a sentence number) against P(``none``)
    at the reply's first token, renormalised over the two. None when neither is listed.

    Every digit counts. Until session 37 only the most likely one did, but Qwen writes numbers digit by
    digit, so the first token "1" stands for sentences 1 and 10-19, and two sentences that state the same
    fact (two passages of one article, or two articles) split the model's mass between their numbers:
    the most likely digit was an arbitrary share of it (``eval.bench.choice_mass``). The server reports
    the model's distribution before the grammar, so other tokens ("The") are listed too; only the
    readings the grammar allows count."""
    numbers = refusal = 0.0
    for token, logprob in alternatives:
        word = token.strip().lower()
        if not word:
            continue
        if word[0].isdigit():
            numbers += math.exp(logprob)
        elif "none".startswith(word) or word.startswith("none"):
            refusal += math.exp(logprob)
    total = numbers + refusal
    return numbers / total if total > 0 else None


def verdict_confidence(alternatives: Iterable[tuple[str, float]]) -> float | None:
    """P(yes) against P(no) at the verdict's first token, renormalised over the two; None when neither
    is listed. Like ``confidence_from_logprobs`` it reads the model's distribution before the grammar."""
    yes = no = 0.0
    for token, logprob in alternatives:
        word = token.strip().lower()
        if word and "yes".startswith(word):
            yes += math.exp(logprob)
        elif word and "no".startswith(word):
            no += math.exp(logprob)
    return yes / (yes + no) if yes + no > 0 else None


def short_answer_gap(short: str | None, question: str, evidence: str) -> str:
    """Why the answerer's short answer does not answer ``question`` from ``evidence`` (the sentences
    ``anchor`` found holding it, with their headlines), or "" when nothing shows it does not.

    Two facts true of any answer, not judgements of its words: it says something the question does
    not (a small model asked for a name the passage lacks writes the question back: "A Polish
    prince"), and what it adds is in the sentences it rests on, every number of it too (else it came
    from somewhere else).
    No short line at all (a server that ignored the format) is no evidence either way."""
    if short is None:
        return ""
    if in_order_of(short, question):
        return "the answer in a few words only repeats the question"
    added = added_words(short, question)
    # Made of the question's words in another order ("Burger King"), it must be in the evidence so.
    held = added & said_words(evidence) if added else in_order_of(short, evidence)
    if not held or unheld_numbers(short, evidence, question):
        return "the answer in a few words is not in the sentences it rests on"
    return ""


def said_words(text: str) -> set[str]:
    """The content words of ``text`` and the numbers it spells out ("six" -> "6", "Twenty-two" -> "22"):
    a short answer of "6" is in a sentence about "six former students" (on news_dev, 4 right answers were
    refused without this). The languages text2num reads (``rag.numerals``); elsewhere a spelled number
    stays a word."""
    return content_words(text) | spelled_numbers(text)


def added_words(text: str, question: str) -> set[str]:
    """The content words ``text`` says beyond ``question``: what an answer adds to what was asked."""
    return content_words(text) - content_words(question)


def answer_words(short: str, question: str) -> set[str]:
    """What a short answer says beyond ``question``: the words it adds; when it adds none but does not
    repeat the question (``in_order_of``), all its words. Asked which company pays for the wedding of
    Joel Burger and Ashley King, "Burger King" adds no word, yet it names what the question does not
    (news_dev's report half: a right answer refused as a repeat before its second look)."""
    added = added_words(short, question)
    if added or in_order_of(short, question):
        return added
    return content_words(short)


_PARTS = re.compile(r",\s|;|\band\b|&|、|，|；")  # "Holland, Spain": each part on its own


def in_order_of(short: str, text: str) -> bool:
    """Every part of ``short`` (split at commas and "and") is a run of ``text``'s content words, in
    order: "the winds in Brest", "Holland, Spain" repeat a question about them. Order matters for the
    few words of a short answer (a name is its words in order); a sentence may reorder its words, so a
    written answer is judged by its words alone (``rag.answering.restates``)."""
    words = content_word_sequence(text)
    parts = [run for run in map(content_word_sequence, _PARTS.split(short)) if run]
    return all(any(words[i:i + len(run)] == run for i in range(len(words) - len(run) + 1)) for run in parts)


def led_by_short(answer: str, short: str | None, question: str) -> str:
    """The written answer, led by the short answer when it leaves out what the short one adds.

    The short line is the checked one (``short_answer_gap``, ``anchor``), but a small model's answer
    line sometimes drifts from it: asked which restaurant a tornado destroyed, it wrote "Grubsteakers"
    and then a sentence about a helper; asked two things, it put one in each line. On news_dev, 14 of
    about 120 answers left out what their short line added, 8 of them the asked fact."""
    if not short or not short.strip():
        return answer
    if not answer_words(short, question) - said_words(answer) or states_in_its_own_script(answer, short):
        return answer
    if not answer.strip():
        return short.strip()
    return led_by(short, answer)


def led_by(lead: str, answer: str) -> str:
    """``lead`` as a sentence of its own before ``answer``: "Yes. The meeting ...", "是的。会谈..."."""
    lead = lead.strip().rstrip(SENTENCE_STOP)
    # "10%" ends in no Chinese character, yet an answer in Chinese follows it: either side decides.
    chinese_or_japanese = ends_in_chinese_or_japanese(lead) or ends_in_chinese_or_japanese(answer.strip()[:1])
    return f"{lead}。{answer}" if chinese_or_japanese else f"{lead}. {answer}"


def states_in_its_own_script(answer: str, short: str) -> bool:
    """The answer states the short answer's fact in another script than the short answer's: asked in
    English about a Chinese article, the model writes "on May 16th" and copies "5月16日" into its short
    line. Leading with the copy would show the asker a script they did not ask in, for a fact already
    stated: the answer states numbers, and each is one of the short answer's (read with their scale:
    "5.4 million" is 540万). A short answer without numbers (a name) still leads: its transliteration
    cannot be checked. (Month names are not read as numbers, so "May" cannot be matched to 5月.)"""
    written, copied = writing_script(answer), writing_script(short)
    return (written is not None and copied is not None and written != copied
            and bool(numbers(answer)) and not unheld_numbers(answer, short))


def short_line_confidence(tokens: Sequence[tuple[str, Sequence[tuple[str, float]]]],
                          shown: str = "") -> float | None:
    """How probable the model found its own short answer: the geometric mean of its tokens'
    probabilities (length-normalised, so a long answer is not penalised for its length). None when the
    reply has no complete ``Short:`` line or the server sent no probabilities.

    A token the grammar forced outside the listed alternatives counts at the least listed probability,
    an upper bound on its own. A token's probability includes its alternatives that start another way
    ``shown`` (the sentences the model read) names the same thing (``same_name_forms``): a model torn
    between "Emmanuel" and "Macron" is not unsure who hosted the talks.

    A token running past the line's end does not count when it is not among its own alternatives: the
    llama.cpp server streams the line's last token, its newline and the grammar's next word as one
    entry ("%\nAnswer") carrying only that next word's probabilities. Counted at the least listed
    probability, it sank every short answer ending in "%" or "." (news_dev: "57%" at 0.08, its digits
    at 0.82 and 0.98)."""
    text, spans = "", []
    for token, alternatives in tokens:
        spans.append((len(text), len(text) + len(token), token, alternatives))
        text += token
    start = text.lower().find(_SHORT)
    end = text.find("\n", start + len(_SHORT)) if start >= 0 else -1
    if start < 0 or end < 0:
        return None
    line = start + len(_SHORT)
    forms = same_name_forms(text[line:end], shown)
    logprobs = [_token_logprob(token, alternatives, text[line:max(first, line)].lstrip(), forms)
                for first, last, token, alternatives in spans
                if first < end and last > line and token.strip() and alternatives
                and not (last > end + 1 and token not in dict(alternatives))]
    return math.exp(sum(logprobs) / len(logprobs)) if logprobs else None


def _token_logprob(token: str, alternatives: Sequence[tuple[str, float]], written: str = "",
                   forms: Iterable[str] = ()) -> float:
    """The token's log probability plus that of its alternatives which, after what the short line has
    ``written`` so far, begin one of the ``forms`` naming the same thing."""
    listed = [logprob for alternative, logprob in alternatives if alternative == token]
    pieces = [logprob for alternative, logprob in alternatives if "\ufffd" in alternative]
    if listed:
        own = listed[0]
    elif pieces and not token.isascii():
        # A character the model writes in byte pieces (Korean "박"): the server lists each piece as "�",
        # never the character, so it was counted at the least listed probability and a sure Korean
        # name came out at 0.01. The most probable piece is an upper bound on it (for that "박" it is
        # also what the server reports as the token's own log probability: -0.0).
        own = max(pieces)
    else:
        own = min(logprob for _, logprob in alternatives)
    same = [logprob for alternative, logprob in alternatives if alternative != token
            and _starts_a_form((written + alternative).lstrip(), forms)]
    return min(0.0, math.log(math.exp(own) + sum(math.exp(logprob) for logprob in same)))


def _starts_a_form(prefix: str, forms: Iterable[str]) -> bool:
    return bool(prefix.strip()) and any(form.startswith(prefix) for form in forms)


def same_name_forms(short: str, shown: str) -> set[str]:
    """The ways ``shown`` names what ``short`` names, when ``short`` is (part of) a name: every run of
    capitalised words holding it, from each of its words on. "Macron" in "French President Emmanuel
    Macron" gives "French President Emmanuel Macron", "President Emmanuel Macron", "Emmanuel Macron" and
    "Macron". Runs end at punctuation and at stop words ("Trump and Macron" is two names, and so is a
    headline's "Work With Trump"), so another person of the same sentence is never the same name.
    Empty for an answer that is no name (a number, a phrase, a script without capitals)."""
    short = short.strip().rstrip(".")
    if not short:
        return set()
    holding = re.compile(rf"(?<!\w){re.escape(short)}(?!\w)")
    forms: set[str] = set()
    for run, starts in _capitalised_runs(shown):
        found = holding.search(run)
        if found:
            forms.update(run[at:] for at in starts if at < found.end())
    return forms


def _capitalised_runs(text: str) -> Iterator[tuple[str, list[int]]]:
    """Runs of consecutive capitalised words that are not stop words, each with its words' offsets."""
    words: list[tuple[int, int]] = []  # (start, end) in text, punctuation stripped
    for match in re.finditer(r"\S+", text):
        raw = match.group()
        core = raw.strip(_PUNCTUATION)
        lead = raw.find(core[:1]) if core else 0
        capitalised = bool(core) and core[0].isupper() and core.lower() not in STOPWORDS
        if words and (not capitalised or raw[:lead]):  # leading punctuation ends the run before it
            yield _run(text, words)
            words = []
        if capitalised:
            words.append((match.start() + lead, match.start() + lead + len(core)))
            if raw[lead + len(core):]:  # trailing punctuation ends the run
                yield _run(text, words)
                words = []
    if words:
        yield _run(text, words)


def _run(text: str, words: Sequence[tuple[int, int]]) -> tuple[str, list[int]]:
    first = words[0][0]
    return text[first:words[-1][1]], [start - first for start, _ in words]


_PUNCTUATION = ".,;:!?()[]{}\"'“”‘’«»–—-"


def render_sources(sources: Sequence[Source], sentences: Sequence[Sentence], header: callable) -> str:  # type: ignore[valid-type]
    """Each excerpt under its article's header, one numbered sentence a line, most relevant last."""
    blocks = []
    for source in reversed(sources):
        lines = [f"[{s.n}] {s.text}" for s in sentences if s.source is source]
        if lines:
            blocks.append(f"Article: {header(source.hit.title, source.hit.publisher)}\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def articles_of(picked: Sequence[Sentence], articles: Mapping[str, str]) -> str:
    """The whole text of the articles the chosen sentences come from (their excerpts if unknown)."""
    seen: dict[str, str] = {}
    for sentence in picked:
        doc = sentence.source.hit.doc_id
        seen.setdefault(doc, articles.get(doc) or sentence.source.text)
    return "\n".join(seen.values())
