# shellcheck shell=bash
# The hand-off of a deploy's backup that deployctl starts with the update
# (cli/backupAhead.ts) to the steps of that update, which get its directory as
# BACKUP_AHEAD (the command provider passes each command the CLI's environment).
# The directory holds the run's pid (it leads its own process group), the
# fingerprint of its settings, `taken` once a backup step claimed it,
# `verified` once its dump is verified (it becomes a dump under its final name
# only after a claim), its output, and its exit code (rc, written last).

# Waits until the run has ended: its rc is written (or its process is gone).
ahead_wait() {
  local pid
  pid=$(cat "$BACKUP_AHEAD/pid")
  while [ ! -e "$BACKUP_AHEAD/rc" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

# Stops a run that is not claimed: it removes its partial dump and scratch
# database and never becomes a dump. Returns once it has ended.
ahead_stop() {
  kill -TERM -- "-$(cat "$BACKUP_AHEAD/pid")" 2>/dev/null || true
  ahead_wait
}

# Whether this update has a run started ahead that no backup step claimed.
ahead_unclaimed() {
  [ -n "${BACKUP_AHEAD:-}" ] && [ -f "$BACKUP_AHEAD/fingerprint" ] && [ ! -d "$BACKUP_AHEAD/taken" ] && [ ! -e "$BACKUP_AHEAD/rc" ]
}
