"""The Gradio app: a chat with a sources panel, the article library, and per-session settings.

``build_app(engine)`` lays out the page and wires events to ``Handlers``, whose answers wait in the engine's
answer queue (the HTTP API's ``AnswerSlots`` when ``rag serve`` mounts the page beside it, so the
model is never asked for more answers at once than it has slots); ``launch(app, ...)`` serves it
with the offline theme (system fonts, nothing fetched from outside 127.0.0.1), the page script and
the upload limit, which Gradio 6 takes in ``launch()`` rather than in ``Blocks()``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag import Answer, NewsRAG, RagError
from rag.service import AnswerSlots, answer_slots, guards, is_loopback
from rag.uploads import MAX_FILES_PER_UPLOAD, UPLOAD_TYPES, read_upload, request_sender
from ui import render
from ui.assets import CSS, PAGE_JS
from ui.chat import BUSY, OneAtATime, flatten_history, recent_turns, stream_reply
from ui.examples import ExampleWriter, examples_of
from ui.settings_form import (BACKEND_HELP, MAX_PAGE_TOP_K, Choices, SessionEngines, available_backends,
                              checked_choices, effective, settings_summary)

PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # UI events; only `ask` is the public API
# The answer queue (``AnswerSlots``) decides how many answers run at once; Gradio only bounds how many
# answering events (chat turns, /ask calls) are past its own queue, each waiting in ours, counted by /healthz.
ANSWERING: dict[str, Any] = {"concurrency_id": "answer", "concurrency_limit": 16}
UPLOAD_CACHE_SECONDS = 3600  # how long a file posted to the page's upload route is kept, at most twice that
MAX_HELD_KEYS = 100  # a browser keeps the removal keys of its last 100 uploads
SANS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
        "Liberation Sans", "Arial", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]


def held_keys(value: Any) -> list[str]:
    """The removal keys a page sent, as a list of at most ``MAX_HELD_KEYS`` short strings (a page may send anything)."""
    if not isinstance(value, list):
        return []
    return [key for key in value if isinstance(key, str) and 0 < len(key) <= 64][-MAX_HELD_KEYS:]


def _visitor(request: gr.Request | None) -> str:
    """Who is asking: the browser session (one per page load), the unit Gradio keeps state for."""
    return str(getattr(request, "session_hash", None) or "")


def theme() -> gr.themes.Base:
    """Gradio's default look with system fonts: no font file is downloaded, from anywhere."""
    return gr.themes.Default(primary_hue="indigo", font=SANS, font_mono=MONO)


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860,
           auth: tuple[str, str] | Callable[[str, str], Any] | None = None, max_file_mb: float = 20.0,
           block: bool = True) -> str:
    """Serve the app; returns its local URL (when ``block`` is False, the server runs in a thread).
    ``rag serve``'s guards stand before it too: other sites' requests and, on loopback without a login,
    host names that are not loopback ones are refused (``rag.service.cross_site_refusal``)."""
    middleware = guards(int(max_file_mb * 1024 * 1024), loopback_names_only=auth is None and is_loopback(host))
    # show_error=False: a visitor sees the messages raised as gr.Error (written for them), not the text of
    # any other exception, which showed server paths ("Cannot move /srv/...") and internals.
    _, url, _ = app.launch(
        server_name=host, server_port=port, auth=auth, prevent_thread_lock=not block, share=False,
        inbrowser=False, show_error=False, ssr_mode=False, max_file_size=f"{max_file_mb:g}mb", quiet=True,
        footer_links=["api"], theme=theme(), css=CSS, app_kwargs={"middleware": middleware},
        head=f"<script>{PAGE_JS}</script>")
    return str(url)


def build_app(engine: NewsRAG, slots: AnswerSlots | None = None) -> gr.Blocks:
    """The whole page for one engine: the library is shared, settings chosen in a tab are that tab's own.

    ``slots``: the answer queue, the HTTP API's when it serves the same engine; a new one otherwise."""
    handlers = Handlers(engine, slots or AnswerSlots(answer_slots(engine.settings), engine.settings.api_max_waiting))
    # Files posted to Gradio's upload route stay in its cache: a visitor could fill the disk without ever
    # indexing one. Ours are copied into the uploads folder at once, so the cache is emptied hourly.
    with gr.Blocks(title="news-rag", analytics_enabled=False,
                   delete_cache=(UPLOAD_CACHE_SECONDS, UPLOAD_CACHE_SECONDS)) as app:
        choices = gr.State(Choices())  # this browser session's backend and top-k
        # The keys of this browser's uploads, kept in the browser: they remove those uploads, and its questions
        # read them (other visitors' questions do not, unless RAG_SHARED_UPLOADS). A key held only in the
        # server's session state was lost on a reload, and when a visitor opening 10,000 sessions pushed that
        # state out of Gradio's session cache. A key is a secret that only its upload was given: a page may
        # send any keys, and those of no upload open nothing. (Gradio's "secret" only scrambles the stored
        # value; the page holds it too.)
        keys = gr.BrowserState([], storage_key="news-rag-removal-keys",
                               secret=hashlib.sha256(str(engine.settings.data_dir).encode()).hexdigest())
        gr.Markdown("## news-rag\nAsk questions about the indexed news articles. Every claim cites "
                    "its source; click a **[n]** to see the quoted passage.", elem_id="header")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat = _chat_tab(handlers, choices, keys)
            with gr.Tab("Library", id="library") as library_tab:
                library = _library_tab(handlers, chat["chatbot"], keys)
            with gr.Tab("Settings", id="settings", elem_id="settings"):
                _settings_tab(handlers, chat, choices)
        library_tab.select(handlers.library, keys, library["refresh_outputs"], queue=False, **PRIVATE)
        app.load(handlers.library, keys, library["refresh_outputs"], queue=False, **PRIVATE)
        gr.api(handlers.ask, api_name="ask", **ANSWERING)
    handlers.examples.refresh()
    # Bounded like the HTTP API's queue (RAG_API_MAX_WAITING): past it a visitor is told the queue is full,
    # instead of the server holding every event any visitor sends.
    return app.queue(default_concurrency_limit=1, max_size=engine.settings.api_max_waiting)


def _chat_tab(handlers: Handlers, choices: gr.State, keys: gr.BrowserState) -> dict[str, Any]:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(elem_id="chat", height=520, label="Chat", show_label=False, buttons=["copy"],
                                 examples=examples_of(handlers.engine), sanitize_html=True,
                                 placeholder="**Ask about the news.** Answers cite the articles they come from.")
            question = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                  elem_id="question", submit_btn="Ask", stop_btn=False, autofocus=True)
            new_chat = gr.Button("New chat", size="sm", variant="secondary", elem_id="new-chat")
        with gr.Column(scale=2, elem_id="sources-column"):
            sources = gr.HTML(render.sources_html(None), elem_id="sources")
    pending = gr.State("")  # the question being answered (the textbox is cleared at once)
    answers = gr.State([])  # per chat message: its Answer (None for questions), to re-show its sources
    turns = gr.State([])  # the conversation as plain text, for follow-up questions
    show_scores = gr.Checkbox(False, render=False, label="Show retrieval scores in the sources panel",
                              elem_id="show-scores")
    answer_io = dict(fn=handlers.respond, inputs=[pending, chatbot, answers, turns, show_scores, choices, keys],
                     outputs=[chatbot, answers, turns, sources], **PRIVATE, **ANSWERING)
    runs = []
    for taken in (question.submit(handlers.take_question, question, [question, pending], queue=False, **PRIVATE),
                  chatbot.example_select(handlers.take_example, None, [question, pending], queue=False, **PRIVATE)):
        answering = taken.then(**answer_io)
        answering.then(handlers.idle, None, question, queue=False, **PRIVATE)
        runs.append(answering)
    question.stop(handlers.stop, [chatbot, answers], [question, chatbot], cancels=runs, queue=False, **PRIVATE)
    chatbot.select(handlers.sources_of, [answers, show_scores], sources, queue=False, **PRIVATE)
    for clear in (new_chat.click, chatbot.clear):
        clear(handlers.new_chat, None, [chatbot, answers, turns, sources], queue=False, **PRIVATE)
    return {"chatbot": chatbot, "sources": sources, "answers": answers, "show_scores": show_scores}


def _library_tab(handlers: Handlers, chatbot: gr.Chatbot, removal_keys: gr.BrowserState) -> dict[str, Any]:
    shared = handlers.engine.settings.shared_uploads
    gr.Markdown("Indexed articles. Add files (" + " ".join(UPLOAD_TYPES)
                + f", up to {handlers.engine.settings.max_file_mb:g} MB each, {MAX_FILES_PER_UPLOAD} at a time): "
                "they are cleaned, chunked and indexed. "
                + ("Uploads are shared with everyone using this server. " if shared else
                   "Your uploads answer your questions in this browser only: other visitors do not see them. ")
                + "A file named like an article already here is added under "
                "a new name (`name-2.md`): an upload never replaces another article. To replace your upload, "
                "remove it first. You can remove here the articles you uploaded in this browser; any other "
                "article is removed on the server (`rag remove`).")
    table = gr.Dataframe(headers=render.LIBRARY_HEADERS, interactive=False, wrap=True, elem_id="library-table",
                         column_widths=["40%", "14%", "18%", "8%", "10%", "10%"], show_search="search")
    with gr.Row():
        files = gr.File(label="Add articles", file_count="multiple", file_types=list(UPLOAD_TYPES),
                        elem_id="upload", scale=3)
        with gr.Column(scale=2):
            picked = gr.Dropdown(label="Your upload to remove", choices=[], elem_id="remove-pick")
            remove = gr.Button("Remove article", variant="stop", elem_id="remove")
    status = gr.Markdown(elem_id="library-status")
    refresh_outputs = [table, picked, chatbot]
    files.upload(handlers.upload, [files, removal_keys], [files, status, removal_keys, *refresh_outputs], **PRIVATE)
    remove.click(handlers.remove, [picked, removal_keys], [status, *refresh_outputs], **PRIVATE)
    return {"refresh_outputs": refresh_outputs}


def _settings_tab(handlers: Handlers, chat: dict[str, Any], choices: gr.State) -> None:
    current = handlers.engine.settings
    backend = gr.Radio(list(available_backends(current)), value=current.llm, label="Answer backend",
                       info=BACKEND_HELP[current.llm], elem_id="backend")
    top_k = gr.Slider(1, MAX_PAGE_TOP_K, value=min(current.top_k, MAX_PAGE_TOP_K), step=1,
                      label="Passages to read (top-k)", elem_id="top-k")
    chat["show_scores"].render()
    apply = gr.Button("Apply", variant="primary", elem_id="apply-settings")
    summary = gr.Markdown(settings_summary(current), elem_id="settings-status")
    gr.Markdown("<small>These choices apply to this browser tab only, from the next question on. The model "
                "files, servers and keys are set by whoever runs the server (`rag config`).</small>")
    backend.change(handlers.backend_help, backend, backend, queue=False, **PRIVATE)
    apply.click(handlers.apply, [backend, top_k, choices], [summary, choices], queue=False, **PRIVATE)
    chat["show_scores"].change(handlers.last_sources, [chat["answers"], chat["show_scores"]], chat["sources"],
                               queue=False, **PRIVATE)


class Handlers:
    """Event handlers: each one calls the engine and hands the result to ``render``."""

    def __init__(self, engine: NewsRAG, slots: AnswerSlots) -> None:
        self.engine = engine
        self.slots = slots  # shared with the HTTP API when it serves the same engine
        self.sessions = SessionEngines(engine)
        self.examples = ExampleWriter(engine, self.slots)  # questions for the empty chat, checked by answering
        self.visitors = OneAtATime()

    # --- chat --------------------------------------------------------------------------------------
    def take_question(self, message: str) -> tuple[Any, str]:
        """Clear the box and switch its button to Stop while the answer is written."""
        return gr.Textbox(value="", submit_btn=False, stop_btn="Stop"), message

    def take_example(self, event: gr.SelectData) -> tuple[Any, str]:
        value = event.value
        return self.take_question(value.get("text", "") if isinstance(value, dict) else str(value))

    def idle(self) -> Any:
        return gr.Textbox(submit_btn="Ask", stop_btn=False)

    def stop(self, chat: list[dict[str, Any]], answers: list[Answer | None]) -> tuple[Any, Any]:
        """Stopped mid-answer: the unchecked words are not kept, only a note that it was stopped."""
        if chat and answers and len(chat) == len(answers) and answers[-1] is None and chat[-1]["role"] == "assistant":
            chat = [*chat[:-1], {"role": "assistant", "content": render.STOPPED}]
        return self.idle(), chat

    def respond(self, message: str, chat: list[dict[str, Any]], answers: list[Answer | None],
                turns: list[dict[str, str]], show_scores: bool, choices: Choices | None = None, keys: Any = None,
                request: gr.Request | None = None) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat with this session's choices; the final checked answer
        replaces the streamed words. Only the recent turns that fit the history limit are sent."""
        message = (message or "").strip()
        if not message:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        with self.visitors.turn(_visitor(request)) as admitted:
            if not admitted:
                raise gr.Error(BUSY)
            chat = [*chat, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
            answers = [*answers, None, None]
            engine = self.sessions.for_session(choices)
            history = recent_turns(turns, engine.settings.max_history_chars)
            filters = engine.visitor_filters(held_keys(keys))  # this browser's uploads, and no other visitor's
            for reply in stream_reply(engine, history, message, self.slots, filters):
                chat[-1] = {"role": "assistant", "content": reply.markdown}
                if reply.answer is None:
                    yield chat, answers, turns, gr.skip()
                    continue
                answers[-1] = reply.answer
                if not reply.answer.error:
                    turns = [*turns, {"role": "user", "content": message},
                             {"role": "assistant", "content": reply.answer.text}]
                yield chat, answers, turns, render.sources_html(reply.answer, show_scores)

    def sources_of(self, answers: list[Answer | None], show_scores: bool, event: gr.SelectData) -> Any:
        """Clicking an earlier answer shows its sources again."""
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        if not isinstance(index, int) or not 0 <= index < len(answers) or answers[index] is None:
            return gr.skip()
        return render.sources_html(answers[index], show_scores)

    def last_sources(self, answers: list[Answer | None], show_scores: bool) -> Any:
        latest = next((a for a in reversed(answers) if a is not None), None)
        return render.sources_html(latest, show_scores) if latest else gr.skip()

    def new_chat(self) -> tuple[list[Any], list[Any], list[Any], str]:
        return [], [], [], render.sources_html(None)

    # --- API ---------------------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict[str, Any]] | None = None,
            request: gr.Request | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Answer a question about the indexed articles, in the context of an optional chat history
        ([{"role": "user"|"assistant", "content": "..."}]). Returns the answer text (citations as [n])
        and the JSON of `rag ask --json` and POST /v1/ask: answer, refused, confidence, citations (n,
        doc_id, source, title, quote, ...), backend, model, timings, error, question, cached, closest (the
        articles read). While it is being made, empty updates ("", {}) come: the words are sent once
        checked, as POST /v1/chat/completions sends them."""
        # A generator, run as the chat's turns are: Gradio closes it when the caller leaves, which stops the
        # model and frees the answer slot (a plain function ran to its end for a caller long gone). Its
        # updates carry no unchecked words: the check may drop a sentence or renumber markers.
        with self.visitors.turn(_visitor(request)) as admitted:
            if not admitted:
                raise gr.Error(BUSY)
            for reply in stream_reply(self.engine, flatten_history(history), question, self.slots,
                                      self.engine.visitor_filters(())):  # no visitor's uploads
                if reply.error is not None:
                    raise gr.Error(reply.error)
                if reply.answer is not None:
                    yield reply.answer.text, reply.answer.to_dict()
                    return
                yield "", {}

    # --- library -----------------------------------------------------------------------------------
    def library(self, keys: Any) -> tuple[Any, Any, Any]:
        """Fresh table, remove choices (the uploads ``keys`` remove) and example questions after the library
        changed."""
        docs = self.engine.visitor_documents(held_keys(keys))
        removable = self.engine.removable_uploads(held_keys(keys), docs)
        return (render.document_rows(docs), gr.Dropdown(choices=render.document_choices(removable), value=None),
                gr.Chatbot(examples=examples_of(self.engine, docs)))

    def upload(self, files: list[str] | None, keys: Any, request: gr.Request,
               progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        """Check and copy the uploads, index them with a progress bar, report what happened; keep the new
        files' removal key in the browser. ``request``: its address, for RAG_MAX_UPLOADS_PER_SENDER."""
        keys = held_keys(keys)
        limit = self.engine.settings.max_file_bytes
        progress(0, desc="Reading the files…")
        try:
            intake, report = self.engine.ingest_uploads(
                ((Path(f).name, read_upload(Path(f), limit)) for f in files or []),
                progress=lambda done, total, name: progress(done / max(total, 1), desc=f"Indexing {name}"), keys=keys,
                sender=request_sender(request))
            summary = render.ingest_summary(report, intake.rejected)
        except RagError as exc:
            return None, f"Could not index the files: {exc}", keys, *self.library(keys)
        if report is not None and report.changed_anything:
            self.examples.refresh()
        renamed = "".join(f"\n\n**{name}** was added as **{saved}**: an article with that name is already in "
                          "the library (remove it first to replace it)." for name, saved in intake.renamed)
        keys = held_keys([*keys, intake.removal_key] if intake.removal_key else keys)
        return None, summary + renamed, keys, *self.library(keys)

    def remove(self, doc_id: str | None, keys: Any) -> tuple[Any, ...]:
        if not doc_id:
            return "Pick an article to remove first.", *self.library(keys)
        doc = next((d for d in self.engine.visitor_documents(held_keys(keys)) if d.doc_id == doc_id), None)
        title = doc.title if doc else doc_id  # another visitor's upload: its id only, not its title
        try:
            removed = self.engine.remove_upload(doc_id, held_keys(keys))  # its file goes too: the name is free again
            if removed:
                self.examples.refresh()
            summary = f"Removed **{title}**." if removed else f"**{title}** was not in the index any more."
        except RagError as exc:
            summary = f"Could not remove **{title}**: {exc}"
        return summary, *self.library(keys)

    # --- settings ----------------------------------------------------------------------------------
    def backend_help(self, backend: str) -> Any:
        return gr.Radio(info=BACKEND_HELP.get(backend, ""))

    def apply(self, backend: str, top_k: float, choices: Choices | None) -> tuple[str, Choices | None]:
        """Keep this session's choices (never the engine's settings): other visitors are unaffected."""
        settings = self.engine.settings
        try:
            new = checked_choices(settings, backend, top_k)
        except ValueError as exc:
            return f"Not applied: {exc}. " + settings_summary(settings, choices), choices
        changed = effective(settings, new) != effective(settings, choices)
        return ("Applied. " if changed else "No change. ") + settings_summary(settings, new), new
