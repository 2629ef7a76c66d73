"""``python -m eval ...`` is ``rag eval ...``: one command group, defined in ``eval/cli.py``."""

import sys

from rag.cli import main

if __name__ == "__main__":
    sys.argv[1:1] = ["eval"]  # argv[0] stays: click names the program "python -m eval"
    main()
