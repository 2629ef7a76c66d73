"""One typed settings object, read from ``RAG_*`` environment variables (and a ``.env`` file).

Built when the application starts and passed down; never built at import time.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY, TUNED_MIN_CONFIRMATION

LlmBackend = Literal["local", "openai", "extractive"]
EmbedBackend = Literal["minilm", "e5", "openai"]


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "news-rag"


def _default_model_dir() -> Path:
    return Path.home() / ".cache" / "news-rag" / "models"


class Settings(BaseSettings):
    """Every knob of news-rag. Environment: ``RAG_<FIELD>`` (e.g. ``RAG_TOP_K=6``)."""

    # "ignore", not "forbid": a .env file shared with other tools holds their keys too. Misspelt names are
    # caught where they are given instead: keywords here (``__init__``), variables by ``unknown_variables``.
    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    def __init__(self, **values: Any) -> None:
        """Refuses a keyword that names no setting: ``Settings(topk=3)`` read RAG_TOP_K's 4 passages."""
        known = accepted_names()
        if unknown := [name for name in values if not name.startswith("_") and name not in known]:
            raise TypeError("; ".join(f"Settings has no {name!r}{_did_you_mean(name, known)}" for name in unknown))
        super().__init__(**values)

    # Where things live
    data_dir: Path = Field(default_factory=_default_data_dir, description="Index and BM25 files.")
    model_dir: Path = Field(default_factory=_default_model_dir, description="Assembled GGUF cache.")
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server.")
    collection: str = Field("news", pattern=r"^[a-zA-Z0-9._-]{3,512}$")

    # Ingestion
    chunk_size: int = Field(128, ge=32, le=2048, description="Tokens per chunk.")
    chunk_overlap: int = Field(16, ge=0, le=512, description="Tokens shared by neighbouring chunks.")
    max_file_mb: float = Field(20.0, gt=0, description=(
        "Larger files, and larger articles of a .jsonl/.json collection, are skipped with a reason."))
    max_collection_mb: float = Field(1024.0, gt=0, description=(
        "A .jsonl/.json collection file may be this large (its articles are each held to RAG_MAX_FILE_MB); "
        "it is read whole, so ingesting one takes about four times its size in memory. Uploads through the "
        "UI or HTTP API stay held to RAG_MAX_FILE_MB."))

    # Embeddings
    embed_backend: EmbedBackend = Field("minilm", description=(
        "minilm (English, the fastest), e5 (multilingual-e5-small: any language, and questions in one language "
        "over articles in another), or openai. Fixed per index: another one needs a new RAG_COLLECTION."))
    embed_batch_size: int = Field(64, ge=1, le=2048)
    openai_embed_model: str = "text-embedding-3-small"

    # Retrieval
    top_k: int = Field(4, ge=1, le=50, description="Passages given to the answerer.")
    candidates: int = Field(20, ge=1, le=500, description="Passages each retriever proposes before fusion.")
    relevance_margin: float = Field(0.3, ge=0.0, le=5.0,
                                    description="Excerpts scoring this far below the best one are left out "
                                                "(0: keep all top_k).")
    context_chars: int = Field(2000, ge=200, le=50_000,
                               description="Excerpt characters sent to the model: on a CPU, prompt length is latency.")
    context_sentences: int = Field(2, ge=0, le=20,
                                   description="Sentences either side of each passage's best sentence that the "
                                               "model reads with it.")

    # Abstention (issue 13): the answerer's confidence that the excerpts answer the question
    min_confidence: float = Field(0.0, ge=0.0, le=1.0,
                                  description="Answers the model is less sure of than this are refused "
                                              "(P(a sentence answers) from its logprobs).")
    verify_evidence: bool = Field(True, description="A second look (local model): the chosen sentences in "
                                                    "their article's context, yes or no, before the answer is "
                                                    "written.")
    min_verification: float = Field(0.6, ge=0.0, le=1.0,
                                    description="Answers whose second look says yes with less than this "
                                                "probability are refused.")
    skip_second_look_above: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Show the answer without the second look when the model wrote its few-word form with at "
                    "least this probability: a quicker first token (the look is 3-4 s on a 2-core CPU), more "
                    "answers and more near-misses answered (0.8: the same score on news_dev's tuning half, one "
                    "near-miss more on seeds_dev). None: the second look always runs.")
    min_short_confidence: float = Field(0.65, ge=0.0, le=1.0,
                                        description="Answers whose few-word form the model wrote with less "
                                                    "than this probability (geometric mean over its tokens) "
                                                    "are refused; 0 turns it off.")
    check_short_answer: bool = Field(True, description="Refuse an answer whose few-word form (the reply's "
                                                        "Short: line) only repeats the question or is not in "
                                                        "the sentences it rests on.")
    min_answer_probability: float | None = Field(
        TUNED_MIN_ANSWER_PROBABILITY, ge=0.0, le=1.0,
        description="Refuse answers whose signals together give less than this probability of being right "
                    "(a logistic fit of the three signals and the short answer's likelihood on news_dev's 524 "
                    "questions, where 0.73 was chosen). It applies where all are read (the local model with the "
                    "second look on); elsewhere, as with 'none', the three thresholds above decide.")

    @field_validator("min_answer_probability", mode="before")
    @classmethod
    def _none_turns_off(cls, value: object) -> object:
        """``RAG_MIN_ANSWER_PROBABILITY=none`` (or empty) gives the three separate thresholds back."""
        return None if isinstance(value, str) and value.strip().lower() in ("", "none", "off") else value
    min_confirmation: float = Field(
        TUNED_MIN_CONFIRMATION, ge=0.0, le=1.0,
        description="A yes/no question is answered yes (with the sentence that says so) when the model says yes "
                    "and its second look, reading the sentence closest to the question, is at least this sure "
                    "that sentence states the answer. A no is not given: a small model cannot tell 'the "
                    "articles say not' from 'the articles do not say', so it is a refusal.")
    extractive_min_confidence: float = Field(0.5, ge=0.0, le=1.0,
                                             description="The extractive backend refuses below this confidence "
                                                         "(its best sentence score, mapped to 0..1).")

    # Generation
    llm: LlmBackend = "local"
    local_model: Path | None = Field(None, description="Any GGUF file; default: the bundled Qwen2.5 1.5B.")
    local_threads: int = Field(0, ge=0, description="llama.cpp threads; 0 = one per core, less the cores other "
                                                    "processes keep busy; looked at again between answers (rag.cpu).")
    local_context: int = Field(4096, ge=512)
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = Field(None, description="Any OpenAI-compatible server (vLLM, Ollama, ...).")
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("RAG_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    request_timeout: float = Field(60.0, gt=0)
    max_answer_tokens: int = Field(120, ge=16, le=4096, description="One or two sentences need ~60.")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    answer_cache: int = Field(256, ge=0, le=10_000, description=(
        "Answers to the example questions kept, in memory and in a file beside the index (every visitor is "
        "shown them): asked again over the same index and settings, even after a restart, one is served at once. Other questions are always computed: they may be "
        "private to whoever asked them. 0: every ask is computed."))

    # Visitors' uploads (the UI's Library tab, POST /v1/documents)
    shared_uploads: bool = Field(False, description=(
        "Let every visitor's questions read every visitor's uploads (a trusted team). Default: an upload "
        "answers only the visitor who holds its key (the browser that uploaded it, or X-Removal-Key): any "
        "visitor could otherwise upload an article that changed what everyone else was answered."))
    max_uploads: int = Field(1000, ge=0, le=100_000, description=(
        "Files the uploads folder may hold, all visitors' together; past it uploads are refused (each one is "
        "a name in every other visitor's search filter, and disk). 0: no uploads."))
    max_uploads_per_sender: int = Field(100, ge=0, le=100_000, description=(
        "Files one network may keep in the uploads folder, and upload in any hour (an IPv4 address, an IPv6 /64, "
        "and an IPv6 /48's networks together 4 times as many; "
        "behind a reverse proxy on this machine, the address it forwards): one anonymous visitor filled the whole "
        "folder in 43 seconds and every other visitor's upload was refused, and each upload or removal rebuilds "
        "the keyword index every search waits on. 0: no limit of its own."))
    max_upload_mb_per_sender: float = Field(50.0, ge=0, description=(
        "Megabytes one network may upload in any hour (counted as RAG_MAX_UPLOADS_PER_SENDER counts networks): "
        "a file counts once however many articles it holds, so one network could send 100 collections of 20 MB "
        "an hour, hours of embedding behind the lock every other visitor's upload waits on. 0: no limit."))

    # The web UI
    ui_auth: SecretStr | None = Field(None, description="user:password the UI asks for (needed off loopback).")
    ui_backends: Annotated[tuple[LlmBackend, ...], NoDecode] = Field(("extractive",), description=(
        "Backends a visitor may pick in the UI for their own session, besides RAG_LLM (comma-separated). "
        "Default: extractive, which costs nothing; add local or openai only to offer them: every visitor "
        "could then load the local model or spend the OpenAI key."))
    ui_examples: int = Field(4, ge=0, le=12, description="Example questions an empty chat offers, each written by "
                             "the model from one of the newest articles in the background and kept only if it is "
                             "answered (0: none, and no model call for them).")

    # The HTTP API (`rag serve`)
    api_token: SecretStr | None = Field(None, description="Bearer token the API requires (needed off loopback).")
    api_parallel: int = Field(2, ge=1, le=64, description="Answers the API computes at once; more wait their "
                                                          "turn (the local model always answers one at a time).")
    api_max_waiting: int = Field(64, ge=1, le=10_000, description=(
        "Questions that may wait for an answer slot; the API answers more with 429 Retry-After (each waiting "
        "one held a thread: 600 at once from one client made 657 threads, and everyone waited 105 s)."))

    # Input limits: a longer question would crowd the passages out of the model's window
    max_question_chars: int = Field(1000, ge=20, le=100_000, description="Longer questions are refused.")
    max_history_chars: int = Field(20_000, ge=0, le=1_000_000,
                                   description="Longer chat histories are refused (the UI sends the recent turns).")

    @field_validator("ui_backends", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """``RAG_UI_BACKENDS=local,extractive`` (blank: none besides RAG_LLM)."""
        return tuple(part.strip() for part in value.split(",") if part.strip()) if isinstance(value, str) else value

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, overlap: int, info: ValidationInfo) -> int:
        size = info.data.get("chunk_size", 128)
        if overlap >= size:
            raise ValueError(f"chunk_overlap ({overlap}) must be smaller than chunk_size ({size})")
        return overlap

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_collection_bytes(self) -> int:
        return int(self.max_collection_mb * 1024 * 1024)

    def redacted(self) -> dict[str, object]:
        """Effective settings for display, with secrets masked."""
        shown: dict[str, object] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr) or name.endswith("api_key"):
                secret = getattr(self, name)
                # An API key's last four characters tell keys apart; a password shows nothing.
                tail = secret.get_secret_value()[-4:] if secret and name.endswith("api_key") else ""
                shown[name] = "****" + tail if secret else None
            elif isinstance(value, Path):
                shown[name] = str(value)
            else:
                shown[name] = value
        return shown


def accepted_names() -> set[str]:
    """The keywords ``Settings`` takes: its fields, and the names a field also answers to (OPENAI_API_KEY)."""
    names = set(Settings.model_fields)
    for info in Settings.model_fields.values():
        alias = info.validation_alias
        names |= {str(choice) for choice in getattr(alias, "choices", [alias]) if isinstance(choice, str)}
    return names


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """``RAG_*`` variables that name no setting, each with the one it is closest to: a misspelt
    ``RAG_TOPK=3`` was ignored without a word."""
    known = {f"RAG_{name.upper()}" for name in Settings.model_fields} | {name for name in accepted_names()
                                                                          if name.startswith("RAG_")}
    return [f"{name}{_did_you_mean(name, known)}" for name in sorted(environ)
            if name.startswith("RAG_") and name not in known]


def _did_you_mean(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
