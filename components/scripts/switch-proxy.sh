# shellcheck shell=bash
# Switches the service behind the reverse proxy with no dropped request (run
# by components/appService.ts under bash's strict mode when the stack has a
# proxy):
#   1. start the new container beside the old one, on the idle slot port;
#   2. wait for its health check;
#   3. point the proxy's upstream at it (PUT /slot/upstream/NAME on the proxy's
#      admin API: not a config reload, so no client connection is closed;
#      requests already proxied finish on the old container);
#   4. let the old container drain: SIGTERM, then up to DRAIN_SECONDS for its
#      in-flight requests;
#   5. remove the old container.
# A new container that never turns healthy is removed, and the proxy keeps
# sending traffic to the old one, which was never touched.
#
# Environment: as container-lib.sh and proxy-lib.sh (whose functions it
# uses), plus SLOT_PORTS ("A B", the two ports the service's containers
# alternate on) and DRAIN_SECONDS.
# The last line of stdout is the JSON result.

admin_ready \
  || { echo "container failed: the proxy's admin API at $PROXY_ADMIN does not answer; nothing was switched" >&2; exit 1; }

read -r slot_a slot_b <<<"$SLOT_PORTS"
running() { [ "$(docker container inspect -f '{{.State.Running}}' "$1" 2>/dev/null || true)" = true ]; }
# What serves now: the proxy's upstream; else a slot container (the proxy was
# just replaced); else a container from before the proxy, on appPort.
upstream() { admin GET "/slot/upstream/$NAME" 2>/dev/null | sed -n 's/.*"dial":"\([^"]*\)".*/\1/p'; }
current=$(upstream || true)
old=""
old_port=""
if [ -n "$current" ]; then
  old_port=${current##*:}; old="$NAME-$old_port"
elif running "$NAME-$slot_a"; then
  old_port=$slot_a; old="$NAME-$slot_a"
elif running "$NAME-$slot_b"; then
  old_port=$slot_b; old="$NAME-$slot_b"
elif docker container inspect "$NAME" >/dev/null 2>&1; then
  old_port=$slot_a; old="$NAME"
fi
if [ "$old_port" = "$slot_a" ]; then port=$slot_b; else port=$slot_a; fi
new="$NAME-$port"
serving="${old:+$old ($APP_HOST:$old_port) keeps serving through the proxy}"
serving="${serving:-no release served through the proxy before}"

docker image inspect "$IMAGE_REF" >/dev/null 2>&1 || docker pull -q "$IMAGE_REF" >/dev/null \
  || { echo "container failed: cannot pull $IMAGE_REF; $serving" >&2; exit 1; }
docker rm -f "$new" >/dev/null 2>&1 || true # a leftover on the idle slot never serves
id=$(run_release "$new" "$port" "release.slot=$port")
if [ -z "$id" ] || ! healthy "$port"; then
  discard "$new" "$id"
  echo "container failed: $IMAGE_REF did not answer on $APP_HOST:$port$HEALTH_PATH within ${HEALTH_TIMEOUT}s; $serving" >&2
  exit 1
fi

if ! admin PUT "/slot/upstream/$NAME" "{\"dial\":\"$APP_HOST:$port\"}" >/dev/null \
  || [ "$(upstream)" != "$APP_HOST:$port" ]; then
  docker rm -f "$new" >/dev/null 2>&1 || true
  echo "container failed: the proxy did not take the new upstream $APP_HOST:$port; $serving" >&2
  exit 1
fi
echo "container: the proxy sends traffic to $new ($RELEASE_VERSION)"

if [ -n "$old" ] && docker container inspect "$old" >/dev/null 2>&1; then
  sleep 1 # requests the proxy accepted just before the switch reach the old container
  docker stop -t "$DRAIN_SECONDS" "$old" >/dev/null || true
  docker rm -f "$old" >/dev/null
  echo "container: drained and removed $old"
fi
printf '{"containerId":"%s","container":"%s","port":%s,"startedAt":"%s"}\n' "$id" "$new" "$port" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
