"""Plain data types shared by every layer. They import nothing from the project."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One cleaned article, ready to be chunked. ``text`` is what offsets refer to."""

    doc_id: str
    text: str
    source: str  # absolute path (plus "#key" for one line of a .jsonl file)
    source_name: str  # file name shown to people
    title: str
    sha256: str  # of the cleaned text: decides whether re-ingestion is needed
    publisher: str = ""
    byline: str = ""
    url: str = ""
    published: int | None = None  # epoch seconds, so Chroma can range-filter it


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with the article facts a citation needs."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    score: float  # fused rank score: higher is better, comparable only within one result list
    title: str = ""
    source: str = ""
    source_name: str = ""
    publisher: str = ""
    published: int | None = None
    dense_score: float | None = None  # cosine similarity to the question, None when dense missed it
    keyword_score: float | None = None  # BM25 score, None when the keyword search missed it
    uploaded: bool = False  # a visitor's upload, not an article the server indexed (``NewsRAG`` marks it)


@dataclass(frozen=True)
class Citation:
    """What one ``[n]`` marker in an answer points at: a real passage of a real article."""

    n: int
    doc_id: str
    source: str
    title: str
    quote: str
    start: int
    end: int
    publisher: str = ""
    uploaded: bool = False  # quoted from a visitor's upload: it may say anything under any title and publisher
    published: int | None = None  # the article's date (epoch seconds): "on Monday" in a quote needs it


@dataclass
class Answer:
    """An answer with its evidence. ``refused`` means the articles did not hold the answer."""

    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    backend: str = ""
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0  # the answer prompt's size as the server reported it; 0 when it did not (a refusal)
    error: str = ""  # set when generation failed but retrieval still produced sources
    question: str = ""  # the question answered (a follow-up rewritten to stand alone)
    # What the answerer wrote before the citation check left out the sentences its evidence cannot back
    # (None when nothing was written): evaluation judges it, since the checked text is faithful by design.
    draft: str | None = None
    # How sure the answerer was that the excerpts answer the question (0..1); None when not measured.
    # Below RAG_MIN_CONFIDENCE the answer is a refusal.
    confidence: float | None = None
    # The second look: P(yes) that the chosen sentences, shown alone, answer the question; None when not
    # made. Below RAG_MIN_VERIFICATION the answer is a refusal.
    verification: float | None = None
    # The answer in a few words, as the answerer wrote it before the full answer (None when it wrote none),
    # and why it does not answer the question ("" when nothing shows it does not): with
    # RAG_CHECK_SHORT_ANSWER on, such an answer is a refusal.
    short: str | None = None
    short_gap: str = ""
    # How probable the model found its own short answer (geometric mean of its tokens' probabilities);
    # None when not measured. Below RAG_MIN_SHORT_CONFIDENCE the answer is a refusal.
    short_confidence: float | None = None
    # The three signals as one probability that the answer is right (``rag.calibration``); None when the
    # answerer measured none of them. With RAG_MIN_ANSWER_PROBABILITY set, below it the answer is a refusal.
    answer_probability: float | None = None
    # How probable the model found its short answer after the chosen passage (mean log probability per
    # token, ``rag.likelihood``); None when not read (only where the one probability decides).
    evidence_likelihood: float | None = None
    # Served from the answer cache: computed for an earlier ask of the same question over the same index
    # and settings (``rag.answer_cache``); ``timings`` then hold the lookup's seconds.
    cached: bool = False

    def passage_of(self, citation: Citation) -> Hit | None:
        """The retrieved passage a citation's quote was taken from (None when no hit holds it): the quote's
        context for the sources panel, the evidence a cited claim is judged against."""
        return next((h for h in self.hits if h.doc_id == citation.doc_id and h.start <= citation.start
                     and citation.end <= h.end), None)

    def closest_articles(self) -> list[Hit]:
        """One passage per article read, best first (hits arrive best first): what a refusal offers instead.
        Articles, not titles: every untitled article of one JSON Lines file carries the file's name."""
        return list({hit.doc_id: hit for hit in reversed(self.hits)}.values())[::-1]

    def to_dict(self) -> dict[str, object]:
        """The one JSON shape of an answer, shared by ``rag ask --json``, the HTTP API (``/v1/ask``) and the
        web UI's ``/ask`` endpoint, so a script written against one reads the others. Hits are compact:
        which articles were read."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "confidence": self.confidence,
            "verification": self.verification,
            # a refusal's few words are the ones its checks did not trust ("185,000 euros" from another article):
            # beside "refused": true they read as an answer to any client that shows them
            "short": None if self.refused else self.short,
            "short_confidence": self.short_confidence,
            "answer_probability": self.answer_probability,
            "evidence_likelihood": self.evidence_likelihood,
            "citations": [{"n": c.n, "doc_id": c.doc_id, "source": c.source, "title": c.title, "quote": c.quote,
                           "start": c.start, "end": c.end, "publisher": c.publisher, "uploaded": c.uploaded,
                           "published": c.published}
                          for c in self.citations],
            "backend": self.backend,
            "model": self.model,
            "timings": self.timings,
            "prompt_tokens": self.prompt_tokens,
            "error": self.error or None,
            "question": self.question,
            "cached": self.cached,
            "closest": [{"doc_id": h.doc_id, "source": h.source_name, "title": h.title, "uploaded": h.uploaded}
                        for h in self.closest_articles()],
        }


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed article as listed by ``documents()``."""

    doc_id: str
    title: str
    source: str
    source_name: str
    chunks: int
    sha256: str
    ingested_at: int
    publisher: str = ""
    published: int | None = None
    uploaded: bool = False  # a visitor's upload (``NewsRAG.documents`` marks it)


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class IngestReport:
    """What one ingestion run did, per outcome; printed by ``rag ingest --json``."""

    added: list[str] = field(default_factory=list)  # doc_ids
    updated: list[str] = field(default_factory=list)
    rechunked: list[str] = field(default_factory=list)  # same text, cut again: the chunker or chunk size changed
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # articles a re-read JSON Lines file no longer holds
    skipped: list[SkippedFile] = field(default_factory=list)  # files, lines and duplicates, with reasons
    warnings: list[SkippedFile] = field(default_factory=list)  # indexed, but without a part (its date): why
    chunks_embedded: int = 0
    seconds: float = 0.0
    notices: list[str] = field(default_factory=list)  # about the archive as a whole: how to index it better

    @property
    def indexed(self) -> list[str]:
        """Every article this run read that the index now holds, whatever it did to it."""
        return [*self.added, *self.updated, *self.rechunked, *self.unchanged]

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.updated or self.rechunked or self.removed)
