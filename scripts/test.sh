#!/usr/bin/env bash
# Every test: type check, lint, then unit, integration and end-to-end layers
# in one mocha run, ending with one line "N passed, N failed[, N skipped]".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The user's ~/.pulumi must be byte-for-byte the same after setup and every test.
pulumi_home_manifest() {
  if [ -d "$HOME/.pulumi" ]; then (cd "$HOME/.pulumi" && find . -type f -print0 | sort -z | xargs -0r sha256sum); else echo "absent"; fi
}
home_before=$(pulumi_home_manifest)
scripts/setup.sh
echo "test: tsc --noEmit"
npx --no-install tsc -p tsconfig.json --noEmit
echo "test: eslint"
npx --no-install eslint .
echo "test: shellcheck"
shellcheck -S warning scripts/*.sh components/scripts/*.sh
. scripts/env.sh
echo "test: mocha (unit, integration, e2e)"
rc=0
npx --no-install mocha --reporter dist/test/support/reporter.js \
  'dist/test/unit/**/*.test.js' 'dist/test/conformance/**/*.test.js' 'dist/test/integration/**/*.test.js' 'dist/test/e2e/**/*.test.js' || rc=$?
if [ "$(pulumi_home_manifest)" != "$home_before" ]; then
  echo "test: FAILED: the user's ~/.pulumi changed during setup or the tests (it must never be written)" >&2
  exit 1
fi
echo "test: the user's ~/.pulumi is unchanged"
exit "$rc"
