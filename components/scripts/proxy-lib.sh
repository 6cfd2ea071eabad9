# shellcheck shell=bash
# The proxy's admin API, for the scripts that switch upstreams and maintenance
# (switch-proxy.sh, maintenance.sh), put in front of them by the components.
#
# Environment: PROXY_ADMIN (host:port of the admin API, on the proxy host's
# loopback) and PROXY_CONTAINER. When PROXY_CONTAINER is set (the stack lists
# hosts, so the proxy may be on another machine), each request is made from
# inside the proxy's container (`docker exec ... caddy slot-admin`) over the
# same DOCKER_HOST as every other docker command; else with curl here.

# admin METHOD PATH [JSON]: one request to the admin API; the answer's body on stdout.
admin() {
  if [ -n "${PROXY_CONTAINER:-}" ]; then
    local err rc=0
    err=$(mktemp)
    docker exec "$PROXY_CONTAINER" caddy slot-admin --address "$PROXY_ADMIN" "$@" 2>"$err" || rc=$?
    # caddy logs its error as JSON: keep the message.
    if [ $rc -ne 0 ]; then sed 's/.*"msg":"\([^"]*\)".*/\1/' "$err" >&2; fi
    rm -f "$err"
    return $rc
  fi
  local args=(-fsS --max-time 10 -X "$1")
  if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
  curl "${args[@]}" "http://$PROXY_ADMIN$2"
}

# admin_ready: waits up to 10 s for the admin API to answer.
admin_ready() {
  for _ in $(seq 1 50); do admin GET /config/ >/dev/null 2>&1 && return 0; sleep 0.2; done
  admin GET /config/ >/dev/null 2>&1
}
