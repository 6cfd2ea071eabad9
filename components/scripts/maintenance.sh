# shellcheck shell=bash
# Switches the proxy's maintenance page on or off (run by
# components/maintenance.ts under bash's strict mode), through the proxy's
# admin API: PUT /slot/maintenance. Not a config reload, so no client
# connection is closed. While on, every public request but the health path
# gets 503, the message and Retry-After.
#
# Environment: as proxy-lib.sh (whose functions it uses), plus MAINTENANCE
# (on or off) and MESSAGE.
# The last line of stdout is the JSON result.

admin_ready || true
if [ "$MAINTENANCE" = on ]; then on=true; else on=false; fi
body=$(MESSAGE="$MESSAGE" ON="$on" node -e 'process.stdout.write(JSON.stringify({ on: process.env.ON === "true", message: process.env.MESSAGE }))')
got=$(admin PUT /slot/maintenance "$body" 2>&1) \
  || { echo "maintenance failed: the proxy's admin API at $PROXY_ADMIN did not take maintenance $MAINTENANCE: $got" >&2; exit 1; }
echo "maintenance: $MAINTENANCE"
printf '{"maintenance":"%s","at":"%s"}\n' "$MAINTENANCE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
