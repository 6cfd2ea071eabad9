#!/usr/bin/env bash
# Builds the test app's release images FROM scratch (static Go binaries, no
# base image to pull), as the playbook's release checklist does for the real
# service: an annotated git tag per version in the app's own repository,
# image tags <version> and <version>-<short sha>, push, then the digest.
#
#   v1.0.0   migrations 001
#   v1.1.0   migrations 001, 002 (adds items.note)
#   v1.2.0   migrations 001, 002 and a broken 003 (for fault tests)
#   v1.3.0   migrations 001, 002 and a slow 003 (for the killed-engine test)
#   v1.4.0   migrations 001, 002 and a contract 004 (renames items; older code breaks on it)
#   v1.5.0   migrations 001, 002; its critical endpoint /items fails (for atomic updates)
#   v1.6.0   migrations 001, 002 and 005 without its down file
#
# Each release also records the range of schema versions its code runs on.
#
# Prints one line per release: version, git SHA, schema version, repo@digest,
# and writes them to .local/images.json. A version whose image is already in
# the registry with the recorded digest is not rebuilt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/test/fixtures/app"
OUT="$ROOT/.local/testapp"
REGISTRY="${REGISTRY:-127.0.0.1:5000}"
REPO="$REGISTRY/acme/api"
INDEX="$ROOT/.local/images.json"
die() { echo "build-test-images: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not installed"
docker info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/local-infra.sh up first"
curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 || die "no registry answers at $REGISTRY; run scripts/local-infra.sh up first"
mkdir -p "$OUT"
[ -f "$INDEX" ] || echo '{}' >"$INDEX"

# The app's own git repository: one commit and one annotated tag per release.
GIT="$OUT/repo"
g() { git -C "$GIT" -c user.name=release-bot -c user.email=release-bot@localhost -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
[ -d "$GIT/.git" ] || { git init -q -b main "$GIT"; }

# Migration files per release, from test/fixtures/app/.
declare -A MIGRATIONS=(
  [v1.0.0]="migrations/001_*"
  [v1.1.0]="migrations/001_* migrations/002_*"
  [v1.2.0]="migrations/001_* migrations/002_* migrations-extra/003_broken.*"
  [v1.3.0]="migrations/001_* migrations/002_* migrations-extra/003_slow_*"
  [v1.4.0]="migrations/001_* migrations/002_* migrations-extra/004_*"
  [v1.5.0]="migrations/001_* migrations/002_*"
  [v1.6.0]="migrations/001_* migrations/002_* migrations-extra/005_*"
)
declare -A SCHEMA=( [v1.0.0]=1 [v1.1.0]=2 [v1.2.0]=3 [v1.3.0]=3 [v1.4.0]=4 [v1.5.0]=2 [v1.6.0]=5 )
# The schema range each release's code runs on: min max.
declare -A RANGE=( [v1.0.0]="1 3" [v1.1.0]="2 3" [v1.2.0]="2 3" [v1.3.0]="2 3" [v1.4.0]="4 4" [v1.5.0]="2 3" [v1.6.0]="2 5" )
# Build-time settings of the app per release.
declare -A APPFLAGS=( [v1.4.0]="-X main.itemsTable=things" [v1.5.0]="-X main.brokenItems=true" )

digest_in_registry() { # digest_in_registry DIGEST
  curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/acme/api/manifests/$1" 2>/dev/null
}

# Images are rebuilt when the app's source, its migrations or this script change.
source_hash=$( (cat "$0"; find "$SRC" -type f | sort | xargs cat) | sha256sum | cut -c1-16)

for v in v1.0.0 v1.1.0 v1.2.0 v1.3.0 v1.4.0 v1.5.0 v1.6.0; do
  known=$(node -e "const i=require('$INDEX'); const r=i['$v']; if (r && r.sourceHash === '$source_hash') console.log(r.digest)")
  if [ -n "$known" ] && digest_in_registry "$known"; then
    continue
  fi
  ctx="$OUT/ctx-$v"
  rm -rf "$ctx"; mkdir -p "$ctx/migrations"
  (cd "$SRC" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$v ${APPFLAGS[$v]:-}" -o "$ctx/app" ./cmd/api \
     && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ctx/migrate" ./cmd/migrate) >"$OUT/build.log" 2>&1 \
     || die "go build of the test app failed (see $OUT/build.log)"
  for pattern in ${MIGRATIONS[$v]}; do
    cp "$SRC"/$pattern "$ctx/migrations/"
  done
  # Commit the release's content to the app repository and tag it (annotated).
  rm -rf "$GIT/migrations"; cp -r "$ctx/migrations" "$GIT/migrations"
  echo "$v" >"$GIT/VERSION"
  g add -A
  g commit -q --allow-empty -m "Release $v"
  g tag -f -a "$v" -m "Release $v" >/dev/null
  sha=$(g rev-parse HEAD)
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY app /app
COPY migrate /migrate
COPY migrations /migrations
LABEL org.opencontainers.image.version="$v" org.opencontainers.image.revision="$sha"
USER 65534:65534
ENTRYPOINT ["/app"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$REPO:$v" -t "$REPO:$v-${sha:0:7}" "$ctx" >"$OUT/docker-build.log" 2>&1 \
    || die "docker build of $v failed (see $OUT/docker-build.log)"
  docker push -q "$REPO:$v" >/dev/null && docker push -q "$REPO:$v-${sha:0:7}" >/dev/null || die "docker push of $v to $REGISTRY failed"
  digest=$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$REPO:$v" | grep "^$REPO@" | head -1 | cut -d@ -f2)
  [ -n "$digest" ] || die "no digest recorded for $REPO:$v after push"
  node -e "
    const fs = require('fs'); const i = JSON.parse(fs.readFileSync('$INDEX', 'utf8'));
    i['$v'] = { version: '$v', gitSha: '$sha', image: '$REPO', digest: '$digest', schemaVersion: ${SCHEMA[$v]}, schemaMin: ${RANGE[$v]% *}, schemaMax: ${RANGE[$v]#* }, sourceHash: '$source_hash' };
    fs.writeFileSync('$INDEX', JSON.stringify(i, null, 2) + '\n');"
done

node -e "
  const i = require('$INDEX');
  for (const r of Object.values(i)) console.log([r.version, r.gitSha, 'schema=' + r.schemaVersion, r.image + '@' + r.digest].join('  '));"
