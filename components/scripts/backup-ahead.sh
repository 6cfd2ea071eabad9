# shellcheck shell=bash
# cli/backupAhead.ts runs the backup script (BACKUP_SCRIPT, components/scripts/backup.sh)
# through this wrapper, ahead of the engine, as the leader of its own process group: the
# script's output goes to files in BACKUP_AHEAD_DIR and, once it has ended (a stopped one
# only after it removed its partial dump and scratch database), its exit code to rc,
# written whole by a rename. The backup step that claims the run reads them.
#
# stdin is a pipe from deployctl, the run's lifeline: when deployctl ends, even killed,
# the pipe closes and the whole group is stopped, so no run outlives the update's tool.

child=""
trap '[ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true' TERM HUP
/bin/bash -c "$BACKUP_SCRIPT" </dev/null >"$BACKUP_AHEAD_DIR/out" 2>"$BACKUP_AHEAD_DIR/err" &
child=$!
# (On fd 3: a background command's own stdin is /dev/null in a shell without job control.)
exec 3<&0
( while read -r _ <&3; do :; done; kill -TERM -- "-$$" 2>/dev/null ) &
rc=0
while :; do
  wait "$child" && rc=0 || rc=$?
  # A trapped signal ends the wait early: wait on until the script has finished its cleanup.
  kill -0 "$child" 2>/dev/null || break
done
# The script's own status, which bash keeps (the last wait may have been cut short by a signal).
wait "$child" && last=0 || last=$?
[ "$last" = 127 ] || rc=$last
echo "$rc" >"$BACKUP_AHEAD_DIR/rc.tmp"
mv "$BACKUP_AHEAD_DIR/rc.tmp" "$BACKUP_AHEAD_DIR/rc"
