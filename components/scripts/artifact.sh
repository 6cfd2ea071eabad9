# shellcheck shell=bash
# The release artifact bundle of runbook 003 §1.2 (run by
# components/releaseArtifact.ts under bash's strict mode): one .tar.gz per
# update, beside the dumps, with its line in SHA256SUMS.
#
# Environment: ARTIFACT_DIR (the backup directory), RELEASE_VERSION,
# ARTIFACT_CONFIG (the stack's config as JSON, secrets already redacted),
# ARTIFACT_RECORD (the release record as JSON), ARTIFACT_IMAGES (one
# "service repo@sha256:..." line per service), IMAGE_REF (the image that owns
# the migrations), MIGRATE_CMD, MIGRATIONS_DIR and DOCKER_HOST (where that
# image is).
#
# The bundle holds config.json, record.json, images.txt and migrations.txt
# (the migration files the image carries, read without running it). It is
# written under a temporary name, fsynced, and only then renamed to
# release_<version>_<UTC timestamp>.tar.gz (never over an existing file). No
# bundle is ever deleted here.
#
# It runs after the last smoke test, when the release already serves, so it
# never fails the update: a bundle that cannot be written is a warning
# ("artifact: not written: ..."), and the result names the error instead of
# a path. The last line of stdout is the JSON result.

umask 077
work=""
tmp=""
cleanup() { [ -z "$work" ] || rm -rf "$work"; [ -z "$tmp" ] || rm -f "$tmp"; }
trap cleanup EXIT
skip() { # skip REASON: warns, and ends with a result that names the reason
  echo "artifact: not written: $1; the release serves as deployed (the bundle is written by the next update that changes something)"
  printf '{"path":"","sha256":"","bytes":0,"error":"%s"}\n' "${1//\"/\'}"
  exit 0
}

mkdir -p "$ARTIFACT_DIR" || skip "cannot create $ARTIFACT_DIR"
ts=$(date -u +%Y%m%dT%H%M%SZ)
base="release_${RELEASE_VERSION}_${ts}"
n=1; while [ -e "$ARTIFACT_DIR/$base.tar.gz" ]; do n=$((n + 1)); base="release_${RELEASE_VERSION}_${ts}_$n"; done
final="$ARTIFACT_DIR/$base.tar.gz"
work=$(mktemp -d) || skip "cannot create a temporary directory"
mkdir "$work/$base" || skip "cannot write to $work"
{ printf '%s\n' "$ARTIFACT_CONFIG" >"$work/$base/config.json" &&
  printf '%s\n' "$ARTIFACT_RECORD" >"$work/$base/record.json" &&
  printf '%s\n' "$ARTIFACT_IMAGES" >"$work/$base/images.txt"; } || skip "cannot write to $work"
files=$(migration_files "$IMAGE_REF") || skip "cannot read $MIGRATIONS_DIR of $IMAGE_REF"
printf '%s\n' "$files" | { grep -v '^$' || true; } | sort >"$work/$base/migrations.txt" || skip "cannot write to $work"
[ -s "$work/$base/migrations.txt" ] || echo "artifact: $IMAGE_REF carries no file in $MIGRATIONS_DIR (migrations.txt is empty)"
tmp="$final.partial.$$"
tar -czf "$tmp" -C "$work" "$base" || skip "cannot write $tmp"
sync "$tmp" || skip "cannot sync $tmp"
sha=$(sha256sum "$tmp" | cut -d" " -f1) && [ -n "$sha" ] || skip "cannot read $tmp back"
bytes=$(stat -c %s "$tmp") || skip "cannot read $tmp back"
echo "$sha  $base.tar.gz" >>"$ARTIFACT_DIR/SHA256SUMS" || skip "cannot write $ARTIFACT_DIR/SHA256SUMS"
mv -n "$tmp" "$final" || skip "cannot rename $tmp"
[ ! -e "$tmp" ] || { keep=$tmp; tmp=""; skip "$final appeared while writing; this bundle stays at $keep"; }
tmp=""
sync "$ARTIFACT_DIR" || true
echo "artifact: $final, sha256 $sha, $bytes bytes ($(wc -l <"$work/$base/migrations.txt") migration files)"
printf '{"path":"%s","sha256":"%s","bytes":%s}\n' "$final" "$sha" "$bytes"
