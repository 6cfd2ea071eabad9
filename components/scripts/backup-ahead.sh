# shellcheck shell=bash
# cli/backupAhead.ts runs the backup script (BACKUP_SCRIPT, components/scripts/backup.sh)
# through this wrapper, ahead of the engine: the script's output goes to files in
# BACKUP_AHEAD_DIR and, once it has ended (a stopped one only after it removed its
# partial dump and scratch database), its exit code to rc, written whole by a rename.
# The backup step that takes the run reads them.

/bin/bash -c "$BACKUP_SCRIPT" >"$BACKUP_AHEAD_DIR/out" 2>"$BACKUP_AHEAD_DIR/err" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM HUP
rc=0
wait "$child" || rc=$?
# A trapped signal ends the wait early: wait on until the script has finished its cleanup.
while kill -0 "$child" 2>/dev/null; do rc=0; wait "$child" || rc=$?; done
echo "$rc" >"$BACKUP_AHEAD_DIR/rc.tmp"
mv "$BACKUP_AHEAD_DIR/rc.tmp" "$BACKUP_AHEAD_DIR/rc"
