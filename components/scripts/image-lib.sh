# shellcheck shell=bash
# What the migration step and the release artifact read from a release image.
# Environment: MIGRATE_CMD (the migration tool's path in the image) and
# MIGRATIONS_DIR (its migration files).

# Lists the migration files an image carries, without running it.
migration_files() {
  local cid
  cid=$(docker create --entrypoint "$MIGRATE_CMD" "$1") || return 1
  docker cp "$cid:$MIGRATIONS_DIR/." - | tar -t 2>/dev/null | sed 's#^\./##' || true
  docker rm "$cid" >/dev/null
}
