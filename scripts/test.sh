#!/usr/bin/env bash
# Every test: type check, lint, then unit, integration and end-to-end layers
# in one mocha run, ending with one line "N passed, N failed[, N skipped]".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
echo "test: tsc --noEmit"
npx --no-install tsc -p tsconfig.json --noEmit
echo "test: eslint"
npx --no-install eslint .
. scripts/env.sh
echo "test: mocha (unit, integration, e2e)"
npx --no-install mocha --reporter dist/test/support/reporter.js \
  'dist/test/unit/**/*.test.js' 'dist/test/integration/**/*.test.js' 'dist/test/e2e/**/*.test.js'
