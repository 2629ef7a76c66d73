"""Imports flow one way: ``ui`` and ``eval`` import ``rag``, never the reverse (issue 15).

``rag`` reaches them only through the ``news_rag.commands`` entry points, so the engine can be
installed, tested and reasoned about without Gradio or the eval suite. Nor does the engine change
llama-index's process-wide ``Settings``: other code in the same process may rely on them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, SEEDS

FORBIDDEN = {"ui", "eval"}  # the packages built on top of rag


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import anywhere in the tree: top level, in functions, in
    ``if TYPE_CHECKING`` blocks, and ``importlib.import_module``/``__import__`` of a literal name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            yield node.lineno, node.args[0].value


def _is_dynamic_import(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def forbidden_imports(source: str, filename: str) -> list[str]:
    tree = ast.parse(source, filename=filename)
    return [f"{filename}:{line} imports {module}" for line, module in sorted(imported_modules(tree))
            if module.split(".")[0] in FORBIDDEN]


def test_nothing_in_rag_imports_ui_or_eval() -> None:
    files = sorted((REPO / "rag").rglob("*.py"))
    assert len(files) > 20  # the walk really found the package
    problems = [problem for path in files
                for problem in forbidden_imports(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))]
    assert problems == [], "rag must not depend on ui or eval; add a command through the news_rag.commands " \
                           "entry points instead:\n" + "\n".join(problems)


def test_ui_and_eval_use_the_public_api_and_the_listed_extension_modules_only() -> None:
    """``rag/__init__.py`` says which engine modules the packages built on it may import; reaching into
    any other (the answering internals, the store) would let a refactor of the engine break them."""
    from rag import EXTENSION_MODULES

    files = sorted([*(REPO / "ui").rglob("*.py"), *(REPO / "eval").rglob("*.py")])
    reached = [f"{path.relative_to(REPO)}:{line} imports {module}" for path in files
               for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
               if module.startswith("rag.") and not any(module == allowed or module.startswith(f"{allowed}.")
                                                        for allowed in EXTENSION_MODULES)]
    assert reached == [], "import these names from `rag`, or list the module in rag.EXTENSION_MODULES " \
                          "with the reason:\n" + "\n".join(reached)


def test_the_check_sees_imports_at_every_level() -> None:
    source = '''
import ui
from eval.bench import server
import rag.cli, eval.cli as plugin
from rag import NewsRAG
from . import fusion
def command():
    from ui.launcher import serve
    import importlib
    return importlib.import_module("eval.runner"), __import__("ui")
class Lazy:
    def method(self):
        if True:
            from eval import halueval
import evaluation, uikit
'''
    assert [p.split(" imports ")[1] for p in forbidden_imports(source, "x.py")] == [
        "ui", "eval.bench", "eval.cli", "ui.launcher", "eval.runner", "ui", "eval"]  # in line order


def test_ui_and_eval_are_registered_as_command_plugins() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."news_rag.commands"]' in pyproject
    assert 'ui = "ui.cli:register"' in pyproject and 'eval = "eval.cli:register"' in pyproject


def test_the_engine_leaves_llama_index_settings_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Building, filling and querying a NewsRAG neither sets llama-index's global LLM and embedding model
    nor makes llama-index resolve its defaults (OpenAI: offline, a network call or a key error): the
    embedding model is passed explicitly wherever llama-index embeds, and nothing asks it for an LLM."""
    from llama_index.core import Settings as LlamaSettings

    from rag import NewsRAG, Settings

    # Unresolved, as in a fresh process: a fallback anywhere would fill them in (llama-index caches
    # what it resolves in these private fields; the public properties resolve on read).
    monkeypatch.setattr(LlamaSettings, "_llm", None)
    monkeypatch.setattr(LlamaSettings, "_embed_model", None)
    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="extractive"))
    engine.ingest([SEEDS])
    assert engine.search("Ukraine aid", k=3, mode="hybrid")
    answer = engine.ask("How much has the US government contributed to Ukraine's war effort?")
    assert answer.hits and answer.error == ""
    assert LlamaSettings._llm is None and LlamaSettings._embed_model is None
