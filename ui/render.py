"""What the chat and the sources panel show, as pure functions of the engine's types (no Gradio here).

The engine has already checked, renumbered and de-duplicated the citations; this module only formats.
Everything taken from articles or models is HTML-escaped before it is put into markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from rag import Answer, Citation, DocumentInfo, Hit, IngestReport
from rag.dates import display_date
from rag.text import clip_at_word

_MARKER = re.compile(r"\[(\d+)\]")
SNIPPET_CHARS = 320  # a closest-article preview: enough to judge relevance, short enough to scan
# Unchecked model words are not kept when the user stops an answer: only checked answers stay in the chat.
STOPPED = "<span class='status'>Stopped before the answer was finished and checked.</span>"


# --- chat messages -----------------------------------------------------------------------------------
def shown_as_text(text: str) -> str:
    """Article or model words as text in a Markdown message: HTML escaped, and every bracket too, so
    no tag, image or link an article carries (``<img src=...>``, ``![](...)``, ``[here](...)``) is
    rendered; the chat's ``sanitize_html`` removes scripts but keeps images, which load by themselves
    and could carry a conversation away in their URL. Emphasis and the like stay harmless formatting."""
    escaped = html.escape(text, quote=False).replace("\\", "\\\\")
    return escaped.replace("[", "\\[").replace("]", "\\]")


def link_citations(text: str) -> str:
    """``shown_as_text``, with each ``[n]`` a link to entry n of the sources panel (the page script opens it)."""
    parts = _MARKER.split(text)  # text, number, text, number, ..., text
    return "".join(f"[[{part}]](#src-{part})" if i % 2 else shown_as_text(part) for i, part in enumerate(parts))


def status_markdown(status: str, partial: str = "") -> str:
    """A reply still being written: the words so far (raw model text), or what the app is doing."""
    if partial.strip():
        return f"{shown_as_text(partial)}▌\n\n<small class='status'>{html.escape(status)}</small>"
    return f"<span class='status'>{html.escape(status)}</span>"


def answer_markdown(answer: Answer) -> str:
    """The final chat message: checked answer, refusal or error, then which backend answered."""
    if answer.error:
        body = (f"**Could not generate an answer.** {shown_as_text(answer.error)}\n\n"
                "The passages that retrieval found are listed under *Sources*.")
    elif answer.refused:
        body = f"**Not in the articles.** {shown_as_text(answer.text)}"
        if answer.hits:
            body += "\n\nThe closest articles are listed under *Sources*."
    else:
        body = link_citations(answer.text)
    return f"{body}\n\n<small class='meta'>{html.escape(meta_line(answer))}</small>"


def error_markdown(message: str) -> str:
    """An exception that stopped the answer (e.g. the index server is down), readable in the chat."""
    return f"**Could not answer.** {shown_as_text(message)}"


def meta_line(answer: Answer) -> str:
    """Which backend and model answered, and how long each step took."""
    model = "no model" if answer.model == "none" else answer.model
    parts = [part for part in (answer.backend, model) if part]
    if answer.confidence is not None:  # how sure the answerer was that the articles answer the question
        parts.append(f"confidence {answer.confidence:.2f}")
    if answer.verification is not None:  # the second look: do the chosen sentences alone state it?
        parts.append(f"second look {answer.verification:.2f}")
    if answer.short_confidence is not None:  # how probable the model found its answer in a few words
        parts.append(f"short answer {answer.short_confidence:.2f}")
    if answer.answer_probability is not None:  # the three as one probability that the answer is right
        parts.append(f"probability right {answer.answer_probability:.2f}")
    if answer.short_gap:  # why the answer in a few words does not answer the question
        parts.append(answer.short_gap)
    if answer.cached:  # the same question over the same articles and settings was answered before
        parts.append("answered before, from the cache")
    parts += [f"{name.replace('_', ' ')} {seconds:.2f} s" for name, seconds in answer.timings.items()]
    if answer.prompt_tokens:
        parts.append(f"{answer.prompt_tokens} prompt tokens")
    return " · ".join(parts)


# --- sources panel -----------------------------------------------------------------------------------
def sources_html(answer: Answer | None, show_scores: bool = False) -> str:
    """The sources panel: cited passages (quote highlighted in its context), or the closest articles.
    A visitor's upload is marked as one: it may say anything under any title and publisher, and read as
    one of the server's own articles."""
    if answer is None:
        return _panel("Sources", "<p class='empty'>Ask a question: the articles an answer cites appear here, "
                                 "with the quoted passage highlighted.</p>")
    if answer.citations:
        single = len(answer.citations) == 1  # one source: open it at once
        entries = [_citation_entry(c, answer.passage_of(c), show_scores, opened=single)
                   for c in answer.citations]
        return _panel("Sources", "".join(entries))
    title = "Retrieved passages" if answer.error else "Closest articles"
    if not answer.hits:
        return _panel(title, "<p class='empty'>No article matched.</p>")
    closest = answer.closest_articles()
    return _panel(title, "".join(_hit_entry(rank, hit, show_scores) for rank, hit in enumerate(closest, 1)))


def highlighted_quote(citation: Citation, hit: Hit | None) -> str:
    """The passage with the quote in ``<mark>``; the bare quote when its context is not at hand."""
    quote = f"<mark>{html.escape(citation.quote)}</mark>"
    if hit is None:
        return quote
    start = citation.start - hit.start
    if hit.text[start:start + len(citation.quote)] != citation.quote:
        start = hit.text.find(citation.quote)
        if start < 0:
            return quote
    before, after = hit.text[:start], hit.text[start + len(citation.quote):]
    return f"{html.escape(before)}{quote}{html.escape(after)}"


def _citation_entry(citation: Citation, hit: Hit | None, show_scores: bool, opened: bool) -> str:
    scores = _scores(hit) if show_scores and hit else ""
    heading = _heading(citation.title, citation.publisher, citation.source, citation.uploaded, citation.published)
    return (f"<details class='source' id='src-{citation.n}'{' open' if opened else ''}>"
            f"<summary><span class='n'>{citation.n}</span> {heading}</summary>"
            f"<blockquote>{highlighted_quote(citation, hit)}</blockquote>{scores}</details>")


def _hit_entry(rank: int, hit: Hit, show_scores: bool) -> str:
    text = clip_at_word(hit.text, SNIPPET_CHARS, " …")
    scores = _scores(hit) if show_scores else ""
    return (f"<details class='source closest' id='src-{rank}'><summary><span class='n'>{rank}</span> "
            f"{_heading(hit.title, hit.publisher, hit.source_name, hit.uploaded, hit.published)}</summary>"
            f"<blockquote>{html.escape(text)}</blockquote>{scores}</details>")


UPLOADED = "uploaded by a visitor"


def _heading(title: str, publisher: str, source: str, uploaded: bool = False, published: int | None = None) -> str:
    """The title, then publisher, date, file and upload mark: a quote saying "on Monday" needs its date."""
    parts = (publisher, display_date(published), source, UPLOADED if uploaded else "")
    byline = " · ".join(html.escape(part) for part in parts if part)
    return f"<b>{html.escape(title or source)}</b><br><span class='byline'>{byline}</span>"


def _scores(hit: Hit) -> str:
    parts = [f"fused {hit.score:.4f}"]
    if hit.dense_score is not None:
        parts.append(f"dense {hit.dense_score:.3f}")
    if hit.keyword_score is not None:
        parts.append(f"keyword {hit.keyword_score:.2f}")
    return f"<div class='scores'>retrieval scores: {' · '.join(parts)}</div>"


def _panel(title: str, body: str) -> str:
    return f"<div class='sources'><h3>{html.escape(title)}</h3>{body}</div>"


# --- library -----------------------------------------------------------------------------------------
LIBRARY_HEADERS = ["Title", "Publisher", "Source", "Chunks", "Published", "Added"]


def document_rows(docs: Sequence[DocumentInfo]) -> list[list[object]]:
    """Rows of the library table, newest first; an upload's source says it is one."""
    return [[d.title, d.publisher, f"{d.source_name} · {UPLOADED}" if d.uploaded else d.source_name, d.chunks, display_date(d.published), display_date(d.ingested_at)]
            for d in sorted(docs, key=lambda d: (-d.ingested_at, d.title))]


def document_choices(docs: Sequence[DocumentInfo]) -> list[tuple[str, str]]:
    """(label, doc_id) pairs for the remove picker; the file name tells same-titled articles apart."""
    return [(f"{d.title} — {d.source_name}", d.doc_id) for d in sorted(docs, key=lambda d: d.title.lower())]


def ingest_summary(report: IngestReport | None, rejected: Sequence[tuple[str, str]]) -> str:
    """What an upload did: counts, then every refused or skipped file with its reason."""
    lines: list[str] = []
    if report is not None:
        rechunked = f", re-chunked {len(report.rechunked)}" if report.rechunked else ""
        lines.append(f"Added {len(report.added)}, updated {len(report.updated)}{rechunked}, unchanged "
                     f"{len(report.unchanged)} ({report.chunks_embedded} passages indexed in {report.seconds:.1f} s).")
    problems = [*rejected, *((Path(s.path).name, s.reason) for s in (report.skipped if report else []))]
    lines += [f"Skipped **{html.escape(name)}**: {html.escape(reason)}" for name, reason in problems]
    lines += [f"Indexed **{html.escape(Path(w.path).name)}**, with a warning: {html.escape(w.reason)}"
              for w in (report.warnings if report else [])]
    return "\n\n".join(lines) or "Nothing to add."
