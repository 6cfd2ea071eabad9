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
# bundle is ever deleted here. The last line of stdout is the JSON result.

umask 077
mkdir -p "$ARTIFACT_DIR" || { echo "artifact failed: cannot create $ARTIFACT_DIR" >&2; exit 1; }
ts=$(date -u +%Y%m%dT%H%M%SZ)
base="release_${RELEASE_VERSION}_${ts}"
n=1; while [ -e "$ARTIFACT_DIR/$base.tar.gz" ]; do n=$((n + 1)); base="release_${RELEASE_VERSION}_${ts}_$n"; done
final="$ARTIFACT_DIR/$base.tar.gz"
work=$(mktemp -d)
tmp="$final.partial.$$"
cleanup() { rm -rf "$work"; [ -z "$tmp" ] || rm -f "$tmp"; }
trap cleanup EXIT

mkdir "$work/$base"
printf '%s\n' "$ARTIFACT_CONFIG" >"$work/$base/config.json"
printf '%s\n' "$ARTIFACT_RECORD" >"$work/$base/record.json"
printf '%s\n' "$ARTIFACT_IMAGES" >"$work/$base/images.txt"
files=$(migration_files "$IMAGE_REF") || { echo "artifact failed: cannot read $MIGRATIONS_DIR of $IMAGE_REF" >&2; exit 1; }
printf '%s\n' "$files" | grep -v '^$' | sort >"$work/$base/migrations.txt" || true
tar -czf "$tmp" -C "$work" "$base" || { echo "artifact failed: cannot write $tmp" >&2; exit 1; }
sync "$tmp"
sha=$(sha256sum "$tmp" | cut -d" " -f1)
bytes=$(stat -c %s "$tmp")
echo "$sha  $base.tar.gz" >>"$ARTIFACT_DIR/SHA256SUMS" || { echo "artifact failed: cannot write $ARTIFACT_DIR/SHA256SUMS" >&2; exit 1; }
mv -n "$tmp" "$final"
[ ! -e "$tmp" ] || { keep=$tmp; tmp=""; echo "artifact failed: $final appeared while writing; this bundle stays at $keep" >&2; exit 1; }
tmp=""
sync "$ARTIFACT_DIR"
echo "artifact: $final, sha256 $sha, $bytes bytes ($(wc -l <"$work/$base/migrations.txt") migration files)"
printf '{"path":"%s","sha256":"%s","bytes":%s}\n' "$final" "$sha" "$bytes"
