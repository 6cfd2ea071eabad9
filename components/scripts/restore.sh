# shellcheck shell=bash
# Rollback with dbMode=restore: put back the dump taken just before the release
# being rolled back (run by components/databaseRestore.ts under strict mode).
#
# Environment: PG* and RESTORE_DUMP, RESTORE_SHA256. Refuses a missing dump or
# one whose checksum differs from the record, then restores it in one
# transaction (pg_restore --clean --if-exists --single-transaction), so a
# failed restore leaves the database as it was. The safety backup of the
# current database is the DatabaseBackup this step depends on.
#
# `pg_restore --clean` cannot undo a schema that changed since the dump (a
# renamed table keeps the dumped sequence alive), so the restore empties the
# public schema and replays the dump as SQL in the same transaction: any error
# rolls everything back. The application's objects are expected in `public`.

[ -f "$RESTORE_DUMP" ] || { echo "restore failed: dump $RESTORE_DUMP does not exist; the database was not touched" >&2; exit 1; }
sha=$(sha256sum "$RESTORE_DUMP" | cut -d" " -f1)
[ "$sha" = "$RESTORE_SHA256" ] || { echo "restore failed: $RESTORE_DUMP has sha256 $sha, but the release record says $RESTORE_SHA256; the database was not touched" >&2; exit 1; }
pg_restore --list "$RESTORE_DUMP" >/dev/null || { echo "restore failed: $RESTORE_DUMP is unreadable; the database was not touched" >&2; exit 1; }
echo "restore: emptying schema public and replaying $RESTORE_DUMP into $PGDATABASE in one transaction"
{
  echo "DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION pg_database_owner; GRANT USAGE ON SCHEMA public TO PUBLIC;"
  # A failed pg_restore must not leave a truncated script to commit: end it with an error instead.
  pg_restore --no-owner -f - "$RESTORE_DUMP" || printf '\n;\nDO $$ BEGIN RAISE EXCEPTION %s; END $$;\n' "'pg_restore failed'"
} | psql -X -q --no-password -v ON_ERROR_STOP=1 --single-transaction -d "$PGDATABASE" >/dev/null \
  || { echo "restore failed: replaying $RESTORE_DUMP failed; its single transaction was rolled back, so the database is as it was" >&2; exit 1; }
echo "restore: done"
