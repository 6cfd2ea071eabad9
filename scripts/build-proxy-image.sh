#!/usr/bin/env bash
# Builds the reverse proxy's test image FROM scratch: Debian's caddy binary
# (unpacked from its package with `apt-get download`, never installed, so no
# system service starts) and the shared libraries it links, pushed to the
# local registry. Writes .local/proxy.json: { image, digest, version }.
# A second run with the image already in the registry is a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REGISTRY="${REGISTRY:-127.0.0.1:5000}"
REPO="$REGISTRY/acme/proxy"
OUT="$ROOT/.local/proxy"
INDEX="$ROOT/.local/proxy.json"
die() { echo "build-proxy-image: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/local-infra.sh up first"
curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 || die "no registry answers at $REGISTRY; run scripts/local-infra.sh up first"
mkdir -p "$OUT"

bin="$OUT/pkg/usr/bin/caddy"
if [ ! -x "$bin" ]; then
  rm -rf "$OUT/pkg" "$OUT"/caddy_*.deb
  (cd "$OUT" && apt-get download caddy >/dev/null 2>&1) \
    || { apt-get update -qq >/dev/null 2>&1 && (cd "$OUT" && apt-get download caddy >/dev/null); } \
    || die "apt-get download caddy failed"
  dpkg -x "$OUT"/caddy_*.deb "$OUT/pkg" || die "cannot unpack $(ls "$OUT"/caddy_*.deb)"
fi
version=$("$bin" version | awk '{print $1; exit}')

if [ -f "$INDEX" ]; then
  digest=$(node -p "require('$INDEX').digest")
  if curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/acme/proxy/manifests/$digest" 2>/dev/null; then
    echo "proxy  caddy $version  $REPO@$digest"
    exit 0
  fi
fi

ctx="$OUT/context"
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/usr/bin" "$ctx/rootfs/config" "$ctx/rootfs/data" "$ctx/rootfs/tmp"
cp "$bin" "$ctx/rootfs/usr/bin/caddy"
# The libraries it links, at the paths the loader looks for them.
while read -r lib; do
  [ -n "$lib" ] || continue
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp -L "$lib" "$ctx/rootfs$lib"
done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\//{print $3} $1 ~ /^\//{print $1}')
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data
CMD ["caddy", "run", "--resume"]
DOCKERFILE
tag="$REPO:$version"
DOCKER_BUILDKIT=0 docker build -q --label "org.opencontainers.image.version=$version" -t "$tag" "$ctx" >/dev/null || die "docker build of $tag failed"
docker push -q "$tag" >/dev/null || die "docker push $tag failed"
digest=$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$tag" | sed -n "s#^$REPO@##p" | head -1)
[ -n "$digest" ] || die "no digest for $tag after the push"
printf '{ "image": "%s", "digest": "%s", "version": "%s" }\n' "$REPO" "$digest" "$version" >"$INDEX"
echo "proxy  caddy $version  $REPO@$digest"
