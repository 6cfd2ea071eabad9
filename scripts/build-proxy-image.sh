#!/usr/bin/env bash
# Builds the reverse proxy's image FROM scratch: Caddy with its standard
# modules and this project's `slot` modules, built as a static binary from
# the Go module pinned in tools/proxy (go.mod + go.sum), pushed to the local
# registry. Writes .local/proxy.json: { image, digest, version }.
# A second run with nothing changed is a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD="$ROOT/tools/proxy"
REGISTRY="${REGISTRY:-127.0.0.1:5000}"
REPO="$REGISTRY/acme/proxy"
OUT="$ROOT/.local/proxy"
INDEX="$ROOT/.local/proxy.json"
die() { echo "build-proxy-image: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not installed"
docker info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/local-infra.sh up first"
curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 || die "no registry answers at $REGISTRY; run scripts/local-infra.sh up first"
mkdir -p "$OUT"

caddy_version=$(awk '{for (i = 1; i < NF; i++) if ($i == "github.com/caddyserver/caddy/v2") { print $(i + 1); exit }}' "$MOD/go.mod")
[ -n "$caddy_version" ] || die "cannot read the pinned Caddy version from tools/proxy/go.mod"
stamp=$(find "$MOD" -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
version="${caddy_version#v}-slot.$stamp"

if [ -f "$INDEX" ] && [ "$(node -p "require('$INDEX').version")" = "$version" ]; then
  digest=$(node -p "require('$INDEX').digest")
  if curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/acme/proxy/manifests/$digest" 2>/dev/null; then
    echo "proxy  caddy $version  $REPO@$digest"
    exit 0
  fi
fi

ctx="$OUT/context"
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/usr/bin" "$ctx/rootfs/config" "$ctx/rootfs/data"
echo "build-proxy-image: building caddy $caddy_version with the slot modules (tools/proxy)"
(cd "$MOD" && CGO_ENABLED=0 go build -trimpath -o "$ctx/rootfs/usr/bin/caddy" .) >"$OUT/build.log" 2>&1 \
  || die "go build of tools/proxy failed (see .local/proxy/build.log: $(grep -m1 -E 'error|cannot|go:' "$OUT/build.log" || tail -1 "$OUT/build.log"))"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data
CMD ["caddy", "run"]
DOCKERFILE
tag="$REPO:$version"
DOCKER_BUILDKIT=0 docker build -q --label "org.opencontainers.image.version=$version" -t "$tag" "$ctx" >/dev/null 2>&1 \
  || die "docker build of $tag failed"
docker push -q "$tag" >/dev/null || die "docker push $tag failed"
digest=$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$tag" | sed -n "s#^$REPO@##p" | head -1)
[ -n "$digest" ] || die "no digest for $tag after the push"
printf '{ "image": "%s", "digest": "%s", "version": "%s" }\n' "$REPO" "$digest" "$version" >"$INDEX"
echo "proxy  caddy $version  $REPO@$digest"
