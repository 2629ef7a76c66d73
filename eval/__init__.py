"""The news-rag eval suite: answer quality on a dataset, and the faithfulness judge measured on HaluEval.

It uses only the public API of ``rag`` (nothing in ``rag`` imports it). Entry points: ``rag eval`` and
``python -m eval`` (the same command group). Modules: ``dataset`` (load + validate), ``metrics`` (pure
arithmetic), ``prompts`` (judge prompts as data), ``judges``, ``runner`` (a dataset run), ``report``
(Markdown + PNG), ``halueval`` (the judge measured on HaluEval).
"""
