# shellcheck shell=bash
# The post-switch check of one service (run by components/smokeTest.ts under
# bash's strict mode), as the playbook asks: the health path, every critical
# endpoint, and the migration status.
#
# Environment: BASE_URL (http://host:port), HEALTH_PATH, EXPECT_VERSION,
# RETRIES, TIMEOUT, CRITICAL (one "path status" per line), SCHEMA_MIN /
# SCHEMA_MAX (the release's range; empty: open), SCHEMA_TABLE, PG* (the
# database), CONTAINER (its last log lines go into a failure), CRITICAL_URL
# (where the critical endpoints are asked; BASE_URL when empty: while the
# proxy is in maintenance they are asked of the new container directly).
# The last line of stdout is the JSON result.

fail() {
  if [ -n "${CONTAINER:-}" ]; then
    echo "smoke: last log lines of $CONTAINER:" >&2
    docker logs --tail 10 "$CONTAINER" 2>&1 | sed 's/^/smoke:   /' >&2 || true
  fi
  echo "smoke failed: $*" >&2
  exit 1
}

get() { # get PATH [BASE] -> "<status>\n<body>" (status 000 when there is no answer)
  curl -sS --max-time "$TIMEOUT" -o /dev/stdout -w '\n%{http_code}' "${2:-$BASE_URL}$1" 2>/dev/null || printf '\n000'
}

last="no answer"
ok=""
for i in $(seq 1 "$RETRIES"); do
  out=$(get "$HEALTH_PATH")
  code=${out##*$'\n'}; body=${out%$'\n'*}
  if [ "$code" = 200 ]; then
    got=$(printf '%s' "$body" | sed -n 's/.*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
    if [ -n "$got" ] && [ "$got" != "$EXPECT_VERSION" ]; then
      fail "$BASE_URL$HEALTH_PATH reports version $got, expected $EXPECT_VERSION"
    fi
    echo "smoke: $BASE_URL$HEALTH_PATH answered 200 with version ${got:-(none reported)} (attempt $i)"
    ok=1
    break
  fi
  last="HTTP $code: $(printf '%s' "$body" | tail -c 200)"
  sleep 1
done
[ -n "$ok" ] || fail "$BASE_URL$HEALTH_PATH failed after $RETRIES attempts; last: $last"

n=0
while read -r path want; do
  [ -n "$path" ] || continue
  code=000
  for _ in 1 2 3; do
    out=$(get "$path" "${CRITICAL_URL:-}")
    code=${out##*$'\n'}
    [ "$code" = "$want" ] && break
    sleep 1
  done
  if [ "$code" != "$want" ]; then
    fail "critical endpoint $path answered $code, expected $want: $(printf '%s' "${out%$'\n'*}" | tail -c 200)"
  fi
  echo "smoke: critical endpoint $path answered $code"
  n=$((n + 1))
done <<<"$CRITICAL"

row=$(psql -qAtX --no-password -c "SELECT version, dirty FROM $SCHEMA_TABLE LIMIT 1" 2>&1) \
  || fail "cannot read the migration status from $SCHEMA_TABLE: $(printf '%s' "$row" | head -1)"
live=${row%%|*}; dirty=${row##*|}
live=${live:-0}
if [ "$dirty" = t ]; then dirty=true; else dirty=false; fi
[ "$dirty" = false ] || fail "the database is dirty at schema $live"
if { [ -n "$SCHEMA_MIN" ] && [ "$live" -lt "$SCHEMA_MIN" ]; } || { [ -n "$SCHEMA_MAX" ] && [ "$live" -gt "$SCHEMA_MAX" ]; }; then
  fail "the database is at schema $live, outside the range ${SCHEMA_MIN}..${SCHEMA_MAX} that $EXPECT_VERSION runs on"
fi
echo "smoke: migration status: schema $live, clean, inside ${SCHEMA_MIN}..${SCHEMA_MAX}"
printf '{"liveSchema":%s,"dirty":%s,"endpoints":%s}\n' "$live" "$dirty" "$n"
