# shellcheck shell=bash
# Moves the schema to the release's version with the release image's own
# migration tool (run by components/migrations.ts under bash's strict mode).
#
# Environment: IMAGE_REF (the release image, repo@digest), MIGRATE_CMD (the
# tool's path in the image), MIGRATIONS_DIR (its migration files), TARGET
# (schema version), SCHEMA_MIN / SCHEMA_MAX (the release's range; empty:
# open), DB_MODE and DOWN_IMAGE, REQUIRE_DOWN (true: refuse an up-migration
# without its down file), STACK, BACKUP_TAKEN (the backup step's kind: none
# when an app-only rollback took no dump, and then no schema may change),
# BACKUP_SCHEMA (then, the clean schema that step read and when), and
# DATABASE_URL (secret; handed to the container through the environment, never
# on a command line).
#
# The tool speaks `version` ("<n> <dirty>") and `goto N`. Up-migrations run
# from the release image. A schema ahead of the target is kept
# (expand/contract) unless DB_MODE=down: then the down migrations run from
# DOWN_IMAGE, the image rolled back from, which has the newer .down.sql files.
# The result must lie inside the release's range before anything switches.
# The last line of stdout is the JSON result.

# A backup deployctl started with the update that no backup step claimed (the step did not
# run) is stopped before any migration: its pg_dump's locks would hold the migration's DDL,
# and the app's queries behind it.
if ahead_unclaimed; then
  echo "migrations: stopping the backup deployctl started with the update, which no backup step took"
  ahead_stop
fi

migrate() { local img=$1; shift; docker run --rm --network host -e DATABASE_URL --entrypoint "$MIGRATE_CMD" "$img" "$@"; }

# Runs the tool, showing its output; on failure the last line names the tool's own error.
run_tool() {
  local out rc=0
  out=$(migrate "$@" 2>&1) || rc=$?
  [ -z "$out" ] || printf '%s\n' "$out"
  if [ "$rc" != 0 ]; then
    echo "migrations failed: $2 $3 with $1: $(printf '%s' "$out" | grep -v '^[[:space:]]*$' | tail -1); the running release was not touched" >&2
    exit 1
  fi
}

# BACKUP_SCHEMA is "<version>@<epoch seconds>" (see below).
read_v=${BACKUP_SCHEMA:-}; read_v=${read_v%@*}; read_at=${BACKUP_SCHEMA:-}; read_at=${read_at#*@}
case "$read_v:$read_at" in *[!0-9:]*|:*|*:) read_v="" ;; esac
if [ "${BACKUP_TAKEN:-}" = none ] && [ -n "$read_v" ] && [ $((EPOCHSECONDS - read_at)) -le 60 ] && [ "$DB_MODE" != down ] && [ "$read_v" -ge "$TARGET" ]; then
  # An app-only rollback whose backup step, just before in this same update (within the last
  # minute: this step can also re-run alone, on a change of its own inputs, with the backup's
  # old outputs), read the schema clean at read_v, at or ahead of the target: nothing can run
  # here, so the release image's tool is not started to read it again (the smoke test reads
  # it after the switch).
  state="$read_v false"
  echo "migrations: schema $read_v, clean, as the backup step read it $((EPOCHSECONDS - read_at))s ago"
else
  state=$(migrate "$IMAGE_REF" version) || { echo "migrations failed: could not read the schema version with $IMAGE_REF; nothing was changed" >&2; exit 1; }
fi
cur=${state%% *}; dirty=${state##* }
if [ "$dirty" != false ]; then
  clean=$((cur > 0 ? cur - 1 : 0))
  echo "migrations failed: the database is dirty at schema $cur: migration $cur failed halfway (its transaction was rolled back, so the tables are as at schema $clean); the running release was not touched. Check the schema, then mark it clean with: deployctl force-schema $clean --stack $STACK --yes" >&2
  exit 1
fi
echo "migrations: database at schema $cur, release needs $TARGET (runs on ${SCHEMA_MIN}..${SCHEMA_MAX})"

if [ "${BACKUP_TAKEN:-}" = none ] && { [ "$cur" -lt "$TARGET" ] || { [ "$cur" -gt "$TARGET" ] && [ "$DB_MODE" = down ]; }; }; then
  echo "migrations failed: the schema would change from $cur to $TARGET, but the backup step took no dump (it found nothing to change); nothing was changed, run the same command again" >&2
  exit 1
fi

changed=false

if [ "$cur" -lt "$TARGET" ]; then
  files=$(migration_files "$IMAGE_REF") || { echo "migrations failed: cannot list $MIGRATIONS_DIR in $IMAGE_REF; nothing was changed" >&2; exit 1; }
  missing=""
  for f in $(printf '%s\n' "$files" | grep -E '^[0-9]+_.*\.up\.sql$' || true); do
    n=${f%%_*}
    printf '%s\n' "$files" | grep -qE "^${n}_.*\.down\.sql$" || missing="$missing ${f}"
  done
  if [ -n "$missing" ]; then
    if [ "$REQUIRE_DOWN" = true ]; then
      echo "migrations failed: $IMAGE_REF carries up-migrations without a down file:$missing; this stack requires one for each (requireDownMigrations); nothing was changed" >&2
      exit 1
    fi
    echo "migrations: warning: up-migrations without a down file:$missing (a rollback with --db down past them is impossible)"
  fi
  run_tool "$IMAGE_REF" goto "$TARGET"
  changed=true
elif [ "$cur" -gt "$TARGET" ]; then
  if [ "$DB_MODE" = down ]; then
    echo "migrations: running down migrations to $TARGET from $DOWN_IMAGE"
    run_tool "$DOWN_IMAGE" goto "$TARGET"
    changed=true
  else
    echo "migrations: schema $cur is ahead of $TARGET and is kept (dbMode=$DB_MODE)"
  fi
fi

# Nothing ran: the state read above still holds.
[ "$changed" = false ] || state=$(migrate "$IMAGE_REF" version)
now=${state%% *}
if { [ -n "$SCHEMA_MIN" ] && [ "$now" -lt "$SCHEMA_MIN" ]; } || { [ -n "$SCHEMA_MAX" ] && [ "$now" -gt "$SCHEMA_MAX" ]; }; then
  echo "migrations failed: the database is at schema $now, outside the range ${SCHEMA_MIN}..${SCHEMA_MAX} this release runs on; nothing was switched and the running release keeps serving (roll back with --db down or --db restore, or deploy a release whose range includes $now)" >&2
  exit 1
fi
printf '{"from":%s,"to":%s,"dirty":%s}\n' "$cur" "$now" "${state##* }"
