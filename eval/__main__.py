"""``python -m eval ...`` is ``rag eval ...``: one command group, defined in ``rag/cli/eval_cmd.py``."""

import sys

from rag.cli import main

if __name__ == "__main__":
    sys.argv = ["rag", "eval", *sys.argv[1:]]
    main()
