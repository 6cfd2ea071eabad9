#!/usr/bin/env bash
# Builds and registers the Pulumi toolchain this project runs on, from the Go
# modules pinned in tools/pulumi (go.mod + go.sum), into .tools/bin:
#   pulumi                    the Pulumi CLI and engine (github.com/pulumi/pulumi/pkg/v3)
#   pulumi-language-nodejs    the Node.js language host (tools/pulumi/cmd/pulumi-language-nodejs)
#   pulumi-resource-command   the command provider plugin (tools/pulumi/cmd/pulumi-resource-command)
#   pulumi-resource-docker    the docker provider plugin (its own module, tools/docker-provider)
# then registers the providers with `pulumi plugin install --file`. The provider
# binary is kept out of PATH (.tools/plugins) so the engine loads the
# registered plugin, not a PATH lookup.
# A second run with nothing changed is a no-op. A `pulumi` already on PATH at
# the pinned version is used instead of building one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"
# The project's own Pulumi home: its plugin cache holds the stand-in plugins.
# Nothing is ever written to the user's ~/.pulumi.
export PULUMI_HOME="$ROOT/.tools/pulumi-home"
PLUGINS="$ROOT/.tools/plugins"
MOD="$ROOT/tools/pulumi"
DOCKER_MOD="$ROOT/tools/docker-provider"
die() { echo "install-tools: $*" >&2; exit 1; }
say() { echo "install-tools: $*"; }

command -v go >/dev/null || die "go is not installed (need Go >= $(awk '/^go /{print $2}' "$MOD/go.mod")); install it and rerun"
command -v node >/dev/null || die "node is not installed (need Node.js >= 20); install it and rerun"

PULUMI_VERSION=$(awk '$1=="github.com/pulumi/pulumi/pkg/v3"{print $2; exit}' "$MOD/go.mod")
COMMAND_VERSION=$(node -p "require('$ROOT/package.json').dependencies['@pulumi/command']")
DOCKER_VERSION=$(node -p "require('$ROOT/package.json').dependencies['@pulumi/docker']")
[ -n "$PULUMI_VERSION" ] || die "cannot read the pinned Pulumi version from tools/pulumi/go.mod"
mkdir -p "$BIN" "$PLUGINS" "$PULUMI_HOME"

# A stamp of everything that goes into our binaries: rebuild only when it changes.
stamp=$( (find "$MOD/cmd" "$DOCKER_MOD" -type f -print0 | sort -z | xargs -0 cat "$MOD/go.mod" "$MOD/go.sum"; echo "$COMMAND_VERSION $DOCKER_VERSION") | sha256sum | cut -c1-16)
stampfile="$ROOT/.tools/stamp"
built=0

build() { # build OUTPUT PACKAGE LDFLAGS [MODULE]
  local out=$1 pkg=$2 ldflags=$3 mod=${4:-$MOD}
  say "building $(basename "$out") ($pkg)"
  if ! (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out.tmp" "$pkg") >"$ROOT/.tools/build.log" 2>&1; then
    rm -f "$out.tmp"
    die "go build of $pkg failed (see .tools/build.log: $(grep -m1 -E 'error|cannot|go:' "$ROOT/.tools/build.log" || tail -1 "$ROOT/.tools/build.log"))"
  fi
  mv "$out.tmp" "$out"
  built=1
}

existing=$(PATH="${PATH//$BIN:/}" command -v pulumi || true)
if [ -n "$existing" ] && [ "$existing" != "$BIN/pulumi" ] && [ "$("$existing" version 2>/dev/null)" = "$PULUMI_VERSION" ]; then
  say "using pulumi $PULUMI_VERSION already on PATH ($existing)"
  ln -sf "$existing" "$BIN/pulumi"
elif [ ! -x "$BIN/pulumi" ] || [ "$("$BIN/pulumi" version 2>/dev/null)" != "$PULUMI_VERSION" ]; then
  build "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
fi

if [ ! -f "$stampfile" ] || [ "$(cat "$stampfile")" != "$stamp" ] || [ ! -x "$BIN/pulumi-language-nodejs" ] || [ ! -x "$PLUGINS/pulumi-resource-command" ] || [ ! -x "$PLUGINS/pulumi-resource-docker" ]; then
  build "$BIN/pulumi-language-nodejs" ./cmd/pulumi-language-nodejs "-X main.version=${PULUMI_VERSION#v}"
  build "$PLUGINS/pulumi-resource-command" ./cmd/pulumi-resource-command "-X main.version=$COMMAND_VERSION"
  build "$PLUGINS/pulumi-resource-docker" . "-X main.version=$DOCKER_VERSION" "$DOCKER_MOD"
  echo "$stamp" >"$stampfile"
fi

export PATH="$BIN:$PATH" PULUMI_SKIP_UPDATE_CHECK=true
register() { # register NAME VERSION: the stand-in into the project's own plugin cache
  local name=$1 ver=$2
  if [ "$built" = 1 ] || ! pulumi plugin ls --json 2>/dev/null | node -e "
    const l = JSON.parse(require('fs').readFileSync(0, 'utf8') || '[]');
    process.exit(l.some(p => p.name === '$name' && p.kind === 'resource' && p.version === '$ver') ? 0 : 1)"; then
    say "registering resource plugin $name $ver"
    pulumi plugin install resource "$name" "$ver" --file "$PLUGINS/pulumi-resource-$name" --reinstall >/dev/null \
      || die "pulumi plugin install resource $name $ver failed"
  fi
}
register command "$COMMAND_VERSION"
register docker "$DOCKER_VERSION"
say "ready: pulumi $(pulumi version) in $BIN (add it to PATH, or source scripts/env.sh)"
