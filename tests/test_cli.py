"""The `rag` command as a user runs it: a real process, real files, JSON they can script against."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from tests.conftest import REPO, SEEDS


def rag(*args: str, data_dir: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "RAG_DATA_DIR": str(data_dir), **(env or {})}
    return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True, env=full_env,
                          timeout=300)


RUSSIAN_ARTICLES = [
    "Выборы мэра пройдут в Москве в воскресенье\n\nГородская избирательная комиссия сообщила, что голосование "
    "продлится два дня, а участки откроются в восемь утра.",
    "Новый мост открыт в Петербурге\n\nДвижение по мосту через Неву начнётся в понедельник, сообщили в "
    "городской администрации.",
    "В Казани прошёл фестиваль книги\n\nФестиваль посетили более двадцати тысяч человек, рассказали "
    "организаторы.",
]


def test_an_archive_in_another_language_is_told_how_to_search_it_better(tmp_path: Path) -> None:
    """MiniLM reads English: the user indexing a Russian archive with it learns of the multilingual model,
    and one indexing English articles (or using that model) is told nothing."""
    articles = tmp_path / "ru"
    articles.mkdir()
    for n, text in enumerate(RUSSIAN_ARTICLES):
        (articles / f"{n}.txt").write_text(text, encoding="utf-8")
    russian = rag("ingest", str(articles), data_dir=tmp_path / "ru-index")
    assert russian.returncode == 0, russian.stderr
    said = " ".join(russian.stdout.split())  # the console wraps lines
    assert "Most of this archive is in Russian" in said and "news-rag[multilingual]" in said and "RAG_EMBED_BACKEND=e5" in said
    english = json.loads(rag("ingest", str(SEEDS), "--json", data_dir=tmp_path / "en-index").stdout)
    assert english["notices"] == []
    with_e5 = rag("ingest", str(articles), "--json", data_dir=tmp_path / "e5-index", env={"RAG_EMBED_BACKEND": "e5"})
    assert json.loads(with_e5.stdout)["notices"] == []


def test_article_text_in_square_brackets_is_printed_as_written(tmp_path: Path) -> None:
    """Scraped articles keep tags like "[photo]" and "[/video]": rich read them as markup, so search
    dropped the first and crashed on the second."""
    article = tmp_path / "[draft] flood.txt"
    article.write_text("River [photo] floods the old town\n\nThe river rose two metres overnight [/video] and "
                       "the old town was evacuated on Tuesday, the mayor said.", encoding="utf-8")
    data = tmp_path / "data"
    assert rag("ingest", str(article), data_dir=data).returncode == 0
    found = rag("search", "river floods old town", "-k", "1", data_dir=data)
    assert found.returncode == 0, found.stderr
    said = " ".join(found.stdout.split())
    assert "River [photo] floods" in said and "overnight [/video] and" in said and "[draft] flood.txt" in said
    listed = rag("documents", data_dir=data)
    assert listed.returncode == 0 and "[photo]" in listed.stdout


def test_ingest_search_documents_remove_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "empty.txt").write_text("")
    first = rag("ingest", str(SEEDS), str(tmp_path / "empty.txt"), "--json", data_dir=data)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["counts"] == {"added": 5, "updated": 0, "rechunked": 0, "unchanged": 0, "removed": 0, "skipped": 1}
    assert report["skipped"][0]["reason"] == "file is empty" and report["chunks_embedded"] == 28  # the 5 seeds

    again = json.loads(rag("ingest", str(SEEDS), "--json", data_dir=data).stdout)
    assert again["counts"]["unchanged"] == 5 and again["chunks_embedded"] == 0

    hits = json.loads(rag("search", "Notre-Dame reopening", "-k", "2", "--json", data_dir=data).stdout)
    assert len(hits) == 2 and hits[0]["source_name"] in {"002_550375792c07ea32.txt", "003_9b3973fa7ae56da0.txt"}
    # --source as the path the user ingested: it named the file's path, which matched nothing
    typed = str(SEEDS / "003_9b3973fa7ae56da0.txt")
    filtered = rag("search", "Notre-Dame reopening", "--source", typed, "--json", data_dir=data)
    only = json.loads(filtered.stdout)
    assert only and {hit["source_name"] for hit in only} == {"003_9b3973fa7ae56da0.txt"}
    assert "Overriding" not in filtered.stderr  # llama-index's BM25 warned at every filtered search
    nothing = rag("search", "Notre-Dame reopening", "--source", "missing.txt", data_dir=data)
    assert "no matching passages with these --source" in nothing.stdout

    docs = json.loads(rag("documents", "--json", data_dir=data).stdout)
    assert len(docs) == 5
    target = docs[0]["doc_id"]
    removed = rag("remove", target, data_dir=data)
    assert removed.returncode == 0 and target in removed.stdout
    assert len(json.loads(rag("documents", "--json", data_dir=data).stdout)) == 4
    missing = rag("remove", target, data_dir=data)
    assert missing.returncode == 1 and "no article" in missing.stdout


def test_ask_json_has_the_documented_shape(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rag("ingest", str(SEEDS), data_dir=data)
    result = rag("ask", "How many drones did Lavrov say targeted Putin's home?", "--llm", "extractive", "--json",
                 data_dir=data)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"answer", "refused", "citations", "backend", "timings"} <= set(answer)
    assert "91" in answer["answer"] and answer["backend"] == "extractive" and not answer["refused"]
    assert {"n", "doc_id", "source", "title", "quote"} <= set(answer["citations"][0])


def test_a_refusal_lists_each_closest_article_of_a_feed_once(tmp_path: Path) -> None:
    """A feed's live updates share one headline: the closest articles were listed by title, so three
    articles read as one; each is listed now, with its passage's opening to tell them apart."""
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": str(n), "title": "Storm latest", "text": text}) + "\n"
                            for n, text in enumerate([
        "The Oban harbour reopened on Monday after storm repairs. Ferries to Mull run again.",
        "Wick harbour stays closed while divers inspect the storm damage to its north pier.",
        "Ayr harbour board approved new storm gates for the inner basin, the chairman said.",
    ])))
    data = tmp_path / "data"
    assert rag("ingest", str(feed), data_dir=data).returncode == 0
    question = "Which harbour storm repairs did the Lyon tram operator pay for?"
    answer = json.loads(rag("ask", question, "--llm", "extractive", "--json", data_dir=data).stdout)
    assert answer["refused"]
    closest = [article["doc_id"] for article in answer["closest"]]
    assert len(closest) == len(set(closest)) == 3
    shown = " ".join(rag("ask", question, "--llm", "extractive", data_dir=data).stdout.split())
    assert shown.count("Storm latest — feed.jsonl") == 3
    assert "Oban harbour reopened" in shown and "Wick harbour stays closed" in shown and "Ayr harbour board" in shown


def test_ask_on_an_empty_index_says_how_to_fill_it(tmp_path: Path) -> None:
    result = rag("ask", "anything?", "--llm", "extractive", data_dir=tmp_path / "empty")
    assert result.returncode == 1
    assert "rag ingest" in result.stderr and "Traceback" not in result.stderr


def test_an_empty_question_is_an_error_not_a_refusal(tmp_path: Path) -> None:
    result = rag("ask", "  ", data_dir=tmp_path)
    assert result.returncode == 2 and "the question is empty" in result.stderr


def test_an_empty_search_is_an_error_as_an_empty_question_is(tmp_path: Path) -> None:
    result = rag("search", "", data_dir=tmp_path)
    assert result.returncode == 2 and "the query is empty" in result.stderr


def test_config_masks_secrets_and_reads_the_environment(tmp_path: Path) -> None:
    result = rag("config", data_dir=tmp_path, env={"OPENAI_API_KEY": "sk-secret-value-1234", "RAG_TOP_K": "7",
                                                   "RAG_UI_AUTH": "editor:hunter22"})
    settings = json.loads(result.stdout)
    assert settings["openai_api_key"] == "****1234" and "sk-secret-value" not in result.stdout
    assert settings["ui_auth"] == "****" and "hunter" not in result.stdout and "r22" not in result.stdout
    assert settings["top_k"] == 7 and settings["data_dir"] == str(tmp_path)


def test_bad_setting_is_a_readable_error(tmp_path: Path) -> None:
    result = rag("config", data_dir=tmp_path, env={"RAG_TOP_K": "lots"})
    assert result.returncode == 1
    assert "RAG_TOP_K" in result.stderr and "Traceback" not in result.stderr


def test_a_misspelt_setting_is_named_not_ignored(tmp_path: Path) -> None:
    """RAG_TOPK=3 and Settings(topk=3) were ignored without a word: 4 passages were read."""
    result = rag("config", data_dir=tmp_path, env={"RAG_TOPK": "3"})
    assert result.returncode == 0 and json.loads(result.stdout)["top_k"] == 4
    assert "RAG_TOPK (did you mean RAG_TOP_K?) is no setting" in " ".join(result.stderr.split())
    from rag import Settings

    with pytest.raises(TypeError, match="Settings has no 'topk' \\(did you mean top_k\\?\\)"):
        Settings(data_dir=tmp_path, topk=3)


COMMANDS = ["ask", "chat", "ingest", "search", "documents", "remove", "config", "serve", "ui", "bench", "eval"]


def listed_commands(help_text: str) -> list[str]:
    """The command names of the help's Commands box, in order (a wrapped description line starts blank)."""
    box = help_text.split("─ Commands ", 1)[1]
    return re.findall(r"^│ (\S+) ", box, flags=re.MULTILINE)


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = rag("--help", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert listed_commands(result.stdout) == COMMANDS


def test_search_with_an_unreadable_date_is_an_error_naming_the_formats(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rag("ingest", str(SEEDS), data_dir=data)
    result = rag("search", "Putin", "--since", "yesterday", data_dir=data)
    assert result.returncode == 2 and "Traceback" not in result.stderr  # 2: a usage error, like any bad option
    message = " ".join(line.strip(" │") for line in result.stderr.splitlines())  # the error box, unwrapped
    assert "Invalid value for --since: 'yesterday' is not a date (accepted: ISO 8601" in message
    assert "RFC 2822" in message and "epoch seconds" in message


def test_documents_lists_a_feed_whose_dates_were_bad(tmp_path: Path) -> None:
    """A timestamp in milliseconds costs its article the date (with a warning saying why, in the JSON
    report and on the terminal); listing never crashes."""
    data = tmp_path / "data"
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "ms", "text": "Ferry fares rise in Oban from May.", "published": 1733529600000}\n'
                    '{"id": "ok", "text": "Largs pier repairs finish early.", "published": 1733529600}\n')
    report = json.loads(rag("ingest", str(feed), "--json", data_dir=data).stdout)
    assert report["counts"]["added"] == 2 and "millisecond" in report["warnings"][0]["reason"]
    assert report["warnings"][0]["path"].endswith("feed.jsonl line 1")
    again = rag("ingest", str(feed), data_dir=data)
    assert "warning" in again.stdout and "feed.jsonl line 1: indexed without a date" in " ".join(again.stdout.split())
    listing = rag("documents", data_dir=data)
    assert listing.returncode == 0, listing.stderr
    assert "2024-12-07" in listing.stdout and "2 articles" in listing.stdout


def test_a_broken_command_plugin_is_a_warning_not_a_dead_cli(tmp_path: Path) -> None:
    """A plugin whose module is gone: `rag` names it on stderr and every other command still works."""
    dist = tmp_path / "site" / "broken_plugin-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0\n")
    (dist / "entry_points.txt").write_text("[news_rag.commands]\nbroken = no_such_module:register\n")
    result = rag("--help", data_dir=tmp_path, env={"PYTHONPATH": f"{REPO}{os.pathsep}{tmp_path / 'site'}"})
    assert result.returncode == 0, result.stderr
    assert "'broken' commands (no_such_module:register) did not load" in result.stderr
    assert "No module named 'no_such_module'" in result.stderr
    assert listed_commands(result.stdout) == COMMANDS  # every other command is still there


def test_a_plugin_that_fails_halfway_adds_no_command() -> None:
    import typer

    from rag.cli import PLUGIN_GROUP, load_plugin

    app = typer.Typer()
    entry = EntryPoint(name="half", value="tests.test_cli:register_then_fail", group=PLUGIN_GROUP)
    assert load_plugin(app, entry) is False
    assert app.registered_commands == [] and app.registered_groups == []
    assert load_plugin(app, EntryPoint(name="eval", value="eval.cli:register", group=PLUGIN_GROUP))
    assert [group.name for group in app.registered_groups] == ["bench", "eval"]


def register_then_fail(app: object) -> None:
    """A plugin that registers one command, then raises."""
    import typer

    assert isinstance(app, typer.Typer)
    app.command("half")(lambda: None)
    app.add_typer(typer.Typer(), name="half-group")
    raise RuntimeError("plugin bug")


@pytest.mark.slow
def test_the_readme_s_first_command_answers_its_question_with_a_citation(tmp_path: Path) -> None:
    """The first thing a newcomer runs: `rag ingest seeds && rag ask "..."` from the README, on the
    embedded defaults (the local model). Its question is read from the README, so a demo that stops
    being answered fails here rather than greeting users with a refusal (until session 34 it asked a
    two-part question the default refuses, at 0.54)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if "rag ingest seeds &&" in line)
    question = re.search(r'rag ask "([^"]+)"', command).group(1)  # type: ignore[union-attr]
    data = tmp_path / "data"
    assert rag("ingest", str(SEEDS), data_dir=data).returncode == 0
    result = rag("ask", question, "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert not answer["refused"] and answer["backend"] == "local", answer["answer"]
    assert answer["citations"] and re.search(r"\[\d\]", answer["answer"])


@pytest.mark.slow
def test_the_readme_s_python_api_runs_as_written(tmp_path: Path) -> None:
    """The README's Python block, run as a newcomer copies it, in a folder holding the seeds: its ask is
    answered and cited, and its stream ends with the checked answer printed (the old loop printed only
    the unchecked words, so a refusal, or the extractive backend, printed a blank line)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The Python API"):]
    code = section[section.index("```python") + len("```python"):section.index("```", section.index("```python") + 9)]
    (tmp_path / "seeds").symlink_to(SEEDS)
    (tmp_path / "snippet.py").write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert "64.1 billion" in lines[0] and "[1]" in lines[0]  # print(answer.text)
    assert re.search(r"\[\d\]", lines[-1]) or "could not find" in lines[-1]  # the stream's checked answer, last


def test_ingest_of_nothing_usable_fails_so_a_script_notices(tmp_path: Path) -> None:
    """A mistyped path or a folder of only rejected files exited 0 ("skipped 1") and a CI job went on
    with an empty index; a folder holding one good file among rejects still succeeds."""
    data = tmp_path / "data"
    missing = rag("ingest", str(tmp_path / "no-such-folder"), data_dir=data)
    assert missing.returncode == 1 and "nothing was ingested" in missing.stdout
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    assert rag("ingest", str(folder), "--json", data_dir=data).returncode == 1
    (folder / "story.txt").write_text("Ferry fares rise\n\nFerry fares in Oban rise by 8 percent from May.")
    mixed = rag("ingest", str(folder), data_dir=data)
    assert mixed.returncode == 0 and "added 1" in mixed.stdout and "skipped" in mixed.stdout
    (tmp_path / "empty").mkdir()  # said "nothing changed: the index already holds these articles", exit 0
    empty = rag("ingest", str(tmp_path / "empty"), data_dir=data)
    assert empty.returncode == 1 and "no articles found" in empty.stdout and "already holds" not in empty.stdout


def test_a_data_dir_that_cannot_be_made_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A folder under a file (or in /proc) raised a four-level chained traceback from Chroma's mkdir."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    result = rag("ingest", str(REPO / "seeds"), data_dir=blocker / "index")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"cannot use {blocker / 'index'}" in " ".join(result.stderr.split())
