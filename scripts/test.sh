#!/usr/bin/env bash
# Install the test dependencies (Python extras; headless Chromium for the report test
# when apt is available) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || echo "warning: could not install chromium; browser tests will be skipped"
fi
python -m pip install -q -e ".[test]"
export LEARNLDS_DATA="${LEARNLDS_DATA:-$(cd .. && pwd)/shared/data/daisy}"
python -m pytest -q "$@"
