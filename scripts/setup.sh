#!/usr/bin/env bash
# Brings a fresh machine to a working state for the demo and the tests:
# OS packages (apt), npm packages (npm ci), the Pulumi toolchain (built from
# pinned Go modules), the local services on loopback, the compiled
# TypeScript, and the test app's release images. Every step is idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "setup: $*"; }
die() { echo "setup: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed (need Node.js >= 20)"
command -v npm >/dev/null || die "npm is not installed"
command -v go >/dev/null || die "go is not installed (need Go >= 1.25 to build the Pulumi toolchain)"

need=()
for pkg in git curl ca-certificates postgresql-client shellcheck; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing packages ${need[*]}; install them (apt-get install ${need[*]}) or run as root"
  say "installing ${need[*]} (apt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/dev/null \
    || die "apt-get install ${need[*]} failed"
fi

lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.setup-stamp ] || [ "$(cat node_modules/.setup-stamp)" != "$lock_hash" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci failed"
  echo "$lock_hash" >node_modules/.setup-stamp
fi

scripts/install-tools.sh
scripts/local-infra.sh up
say "compiling TypeScript"
npx --no-install tsc -p tsconfig.json || die "tsc failed"
scripts/build-test-images.sh
scripts/build-proxy-image.sh
