#!/usr/bin/env bash
# Benchmarks against the local infrastructure and the test app; prints a table of
# medians (min-max) and ratios, writes bench/out/results.json and bench/out/availability.svg.
#   bash scripts/bench.sh [--runs N] [--db-gib X[,Y...]] [--out DIR]     (defaults: 3 runs, 1 and 4 GiB)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh >/dev/null
. scripts/env.sh
exec node dist/bench/bench.js "$@"
