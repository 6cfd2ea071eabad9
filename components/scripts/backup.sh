# shellcheck shell=bash
# A verified, checksummed pg_dump (run by components/databaseBackup.ts under
# bash's strict mode).
#
# Environment: PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD, BACKUP_DIR,
# BACKUP_PREFIX (pre_release, or safety_before_restore for the safety dump of
# a restore), RELEASE_VERSION (the release whose data the dump holds or
# precedes), BACKUP_VERIFY and BACKUP_RETAIN; for an app-only rollback,
# SKIP_AT_SCHEMA (the release's target schema) and SCHEMA_TABLE.
#
# With SKIP_AT_SCHEMA set, no dump is taken when the database is clean at that
# schema or ahead of it: the migrations that follow keep such a schema as it
# is, so the update changes no schema and a full dump would only put time that
# grows with the database on the rollback's critical path. The newest dump
# stays the recovery point. A database behind SKIP_AT_SCHEMA (its migrations
# will run) or dirty gets a dump as always. The result then holds the clean
# schema it read (liveSchema) and when (readAt, epoch seconds), which the migration
# step of the same update takes as its own reading.
#
# The dump is written under a temporary name, verified, fsynced and only then
# renamed to <prefix>_<version>_<UTC timestamp>.dump (never over an existing
# file), so a dump under its final name is always complete and verified, and
# no dump is ever overwritten. The leftovers of a killed backup (a
# *.partial.<pid> file, a verify_<ts>_<host>_<pid> scratch database) whose
# process is gone are removed first; a complete dump is never touched.
# The last line of stdout is the JSON result.
#
# Taken ahead: `deployctl deploy` starts this same script with the same
# settings as the engine starts (cli/backupAhead.ts, BACKUP_AHEAD_DIR set for
# that run) and passes the engine BACKUP_AHEAD, the run's directory (see
# ahead-lib.sh). The backup step takes that run as its own when its settings
# match (backup_fingerprint: what is dumped, where and how; never the password),
# and only once (the `taken` directory is the claim): it waits for it, replays
# its output and exits with its code. With other settings it stops the run and
# takes its own dump, as it does when the run is already claimed or ended
# without a result. The run itself verifies its dump under the temporary name
# and waits there for a claim: a run no step claims never becomes a dump, never
# writes SHA256SUMS and never applies retention. Either way the step ends only
# when a dump is verified, so the order backup, migrations, switch stays.

umask 077
# A stopped backup (deployctl stops a run taken ahead that no step claimed) still
# removes its partial dump and scratch database: the EXIT trap runs on a signal too.
trap 'exit 143' TERM INT HUP

backup_fingerprint() {
  printf '%s\n' "PGHOST=${PGHOST:-}" "PGPORT=${PGPORT:-}" "PGDATABASE=${PGDATABASE:-}" "PGUSER=${PGUSER:-}" \
    "BACKUP_DIR=$BACKUP_DIR" "BACKUP_PREFIX=$BACKUP_PREFIX" "RELEASE_VERSION=$RELEASE_VERSION" "BACKUP_VERIFY=$BACKUP_VERIFY" \
    "BACKUP_RETAIN=$BACKUP_RETAIN" "SKIP_AT_SCHEMA=${SKIP_AT_SCHEMA:-}" | sha256sum | cut -d" " -f1
}

if [ -n "${BACKUP_AHEAD:-}" ] && [ -f "$BACKUP_AHEAD/fingerprint" ]; then
  apid=$(cat "$BACKUP_AHEAD/pid")
  if [ "$(cat "$BACKUP_AHEAD/fingerprint")" != "$(backup_fingerprint)" ]; then
    echo "backup: the backup deployctl started with the update (process $apid) has other settings; stopping it, this step takes its own"
    ahead_stop
  elif ! mkdir "$BACKUP_AHEAD/taken" 2>/dev/null; then
    echo "backup: the backup deployctl started with the update (process $apid) was already taken by another step; this step takes its own"
  else
    ahead_wait
    if [ -e "$BACKUP_AHEAD/rc" ]; then
      echo "backup: taken by deployctl from the start of the update, with this step's settings (process $apid); its output:"
      cat "$BACKUP_AHEAD/out"
      cat "$BACKUP_AHEAD/err" >&2
      : >"$BACKUP_AHEAD/replayed"
      exit "$(cat "$BACKUP_AHEAD/rc")"
    fi
    echo "backup: the backup deployctl started with the update (process $apid) ended without a result; this step takes its own"
  fi
fi

mkdir -p "$BACKUP_DIR" || { echo "backup failed: cannot create $BACKUP_DIR" >&2; exit 1; }
[ -w "$BACKUP_DIR" ] || { echo "backup failed: $BACKUP_DIR is not writable" >&2; exit 1; }
host=$(printf "%s" "${HOSTNAME:-localhost}" | cksum | cut -c1-6)

alive() { kill -0 "$1" 2>/dev/null; }

# Leftovers of killed backups on this machine.
for f in "$BACKUP_DIR"/*.dump.partial.*; do
  [ -e "$f" ] || continue
  pid=${f##*.partial.}
  case $pid in ''|*[!0-9]*) continue ;; esac
  if ! alive "$pid"; then echo "backup: removing $(basename "$f"), left by a killed backup (process $pid is gone)"; rm -f -- "$f"; fi
done

pg_isready -q -t 10 || { echo "backup failed: database $PGDATABASE at $PGHOST:$PGPORT is not reachable; nothing was changed" >&2; exit 1; }

if [ -n "${SKIP_AT_SCHEMA:-}" ]; then
  row=$(psql -qAtX --no-password -F ' ' -c "SELECT version, dirty FROM $SCHEMA_TABLE LIMIT 1" 2>/dev/null || true)
  live=${row%% *}; dirty=${row##* }
  case $live in ''|*[!0-9]*) live="" ;; esac
  if [ -n "$live" ] && [ "$dirty" = f ] && [ "$live" -ge "$SKIP_AT_SCHEMA" ]; then
    ts=$(date -u +%Y%m%dT%H%M%SZ)
    echo "backup: none taken: the database is clean at schema $live and $RELEASE_VERSION needs $SKIP_AT_SCHEMA, so this app-only rollback changes no schema; the newest dump in $BACKUP_DIR stays the recovery point"
    printf '{"path":"","sha256":"","bytes":0,"verified":"none","takenAt":"%s","dumpSeconds":0,"verifySeconds":0,"kind":"none","liveSchema":%s,"readAt":%s}\n' "$ts" "$live" "$EPOCHSECONDS"
    exit 0
  fi
fi

for db in $(psql -qAtX --no-password -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'verify\\_%\\_${host}\\_%'" 2>/dev/null || true); do
  pid=${db##*_}
  case $pid in ''|*[!0-9]*) continue ;; esac
  if ! alive "$pid"; then echo "backup: dropping scratch database $db, left by a killed backup (process $pid is gone)"; dropdb --no-password --if-exists "$db" || true; fi
done

ts=$(date -u +%Y%m%dT%H%M%SZ)
final="$BACKUP_DIR/${BACKUP_PREFIX}_${RELEASE_VERSION}_${ts}.dump"
n=1; while [ -e "$final" ]; do n=$((n + 1)); final="$BACKUP_DIR/${BACKUP_PREFIX}_${RELEASE_VERSION}_${ts}_$n.dump"; done
tmp="$final.partial.$$"
scratch=""
# --force (PostgreSQL 13+) ends the scratch database's restore session if a stopped pg_restore left it open.
# A second signal (the group's and the wrapper's) must not cut the cleanup short.
cleanup() {
  trap '' TERM INT HUP
  [ -z "$tmp" ] || rm -f "$tmp"
  if [ -n "$scratch" ]; then dropdb --no-password --if-exists --force "$scratch" >/dev/null 2>&1 || dropdb --no-password --if-exists "$scratch" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

t0=$EPOCHREALTIME
verified=list
if [ "$BACKUP_VERIFY" = restore ]; then
  # The verification restores the very bytes written to the dump, side by side with the dump:
  # pg_dump's stream goes to the file and, through tee, into pg_restore on a scratch database.
  # On 2 cores this takes about the restore's time instead of the dump's plus the restore's.
  echo "backup: pg_dump -Fc $PGDATABASE at $PGHOST:$PGPORT, verified by restoring the same stream into a scratch database meanwhile"
  scratch="verify_${ts,,}_${host}_$$"
  createdb --no-password "$scratch"
  dumped=$(mktemp)
  set +e
  { pg_dump -Fc --no-password; rc=$?; echo "$EPOCHREALTIME" >"$dumped"; exit "$rc"; } \
    | tee "$tmp" | pg_restore --no-password --no-owner --exit-on-error -d "$scratch"
  status=("${PIPESTATUS[@]}")
  set -e
  t1=$(cat "$dumped" 2>/dev/null || echo "$EPOCHREALTIME"); rm -f "$dumped"
  if [ "${status[0]}" != 0 ] && [ "${status[0]}" != 141 ]; then
    echo "backup failed: pg_dump exited with an error; nothing was changed" >&2; exit 1
  elif [ "${status[2]}" != 0 ]; then
    # tee and pg_dump then stop on a closed pipe (141): the restore's failure is the cause.
    echo "backup failed: verification restore into a scratch database failed; nothing was changed" >&2; exit 1
  elif [ "${status[1]}" != 0 ] || [ "${status[0]}" != 0 ]; then
    echo "backup failed: cannot write the dump to $BACKUP_DIR (disk full or read-only?); nothing was changed" >&2; exit 1
  fi
  dropdb --no-password "$scratch"; scratch=""
  verified=restore
else
  echo "backup: pg_dump -Fc $PGDATABASE at $PGHOST:$PGPORT"
  pg_dump -Fc --no-password -f "$tmp" || { echo "backup failed: pg_dump exited with an error; nothing was changed" >&2; exit 1; }
  t1=$EPOCHREALTIME
fi
sync "$tmp"
pg_restore --list "$tmp" >/dev/null || { echo "backup failed: dump is unreadable (pg_restore --list failed); nothing was changed" >&2; exit 1; }
t2=$EPOCHREALTIME
# With verification by restore both ran side by side: the dump took t0..t1, the verification t0..t2.
dump_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
if [ "$verified" = restore ]; then verify_from=$t0; else verify_from=$t1; fi
verify_s=$(awk -v a="$verify_from" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')
sha=$(sha256sum "$tmp" | cut -d" " -f1)
bytes=$(stat -c %s "$tmp")
if [ -n "${BACKUP_AHEAD_DIR:-}" ]; then
  # Started ahead by deployctl: only the backup step that claims this run makes it a dump.
  : >"$BACKUP_AHEAD_DIR/verified"
  until [ -d "$BACKUP_AHEAD_DIR/taken" ]; do sleep 0.05; done
fi
echo "$sha  $(basename "$final")" >>"$BACKUP_DIR/SHA256SUMS" || { echo "backup failed: cannot write $BACKUP_DIR/SHA256SUMS; nothing was changed" >&2; exit 1; }
mv -n "$tmp" "$final"
[ ! -e "$tmp" ] || { keep=$tmp; tmp=""; echo "backup failed: $final appeared while writing; both kept, this dump stays at $keep" >&2; exit 1; }
sync "$BACKUP_DIR"
echo "backup: $final verified by $verified, sha256 $sha, $bytes bytes (dump ${dump_s}s, verification ${verify_s}s$([ "$verified" = restore ] && echo ", side by side"))"
if [ "$BACKUP_RETAIN" -gt 0 ]; then
  # Retention counts pre-release dumps only; safety dumps are never removed by it.
  find "$BACKUP_DIR" -maxdepth 1 -name 'pre_release_*.dump' -printf '%T@ %p\n' | sort -rn | tail -n +$((BACKUP_RETAIN + 1)) | cut -d' ' -f2- | while read -r old; do
    echo "backup: retention keeps the newest $BACKUP_RETAIN dumps; removing $old"; rm -f -- "$old"
  done
fi
printf '{"path":"%s","sha256":"%s","bytes":%s,"verified":"%s","takenAt":"%s","dumpSeconds":%s,"verifySeconds":%s,"kind":"%s"}\n' "$final" "$sha" "$bytes" "$verified" "$ts" "$dump_s" "$verify_s" "$BACKUP_PREFIX"
