"""``python -m eval ...`` is ``rag eval ...``: the same command group, defined in ``eval/cli.py``."""

from eval.cli import eval_app
from rag.cli import run

if __name__ == "__main__":
    run(eval_app, prog_name="python -m eval")
