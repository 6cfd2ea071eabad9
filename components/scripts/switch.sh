# shellcheck shell=bash
# Switches the service's container to a new image (run by
# components/appService.ts under bash's strict mode).
#
# Environment: as container-lib.sh (whose functions it uses), plus PORT.
#
# The image is pulled by digest first, so an unpullable release changes
# nothing. The previous container is stopped (host networking: two versions
# cannot bind one port) but kept until the new one answers its health check;
# if it never does, the new one is removed and the previous one started again.
# The last line of stdout is the JSON result.

docker pull -q "$IMAGE_REF" >/dev/null || { echo "container failed: cannot pull $IMAGE_REF; the running container was not touched" >&2; exit 1; }
prev=""
if docker container inspect "$NAME" >/dev/null 2>&1; then
  prev="$NAME-previous-$(date +%s)"
  docker rename "$NAME" "$prev"
  docker stop -t 10 "$prev" >/dev/null
fi
id=$(run_release "$NAME" "$PORT")
if [ -z "$id" ] || ! healthy "$PORT"; then
  discard "$NAME" "$id"
  serves="no container serves $NAME"
  if [ -n "$prev" ]; then
    docker rename "$prev" "$NAME" && docker start "$NAME" >/dev/null
    if healthy "$PORT"; then serves="the previous container was started again and answers"; else serves="the previous container was started again but does not answer"; fi
  fi
  echo "container failed: $IMAGE_REF did not answer on $APP_HOST:$PORT$HEALTH_PATH within ${HEALTH_TIMEOUT}s; $serves" >&2
  exit 1
fi
if [ -n "$prev" ]; then docker rm -f "$prev" >/dev/null; fi
echo "container: $NAME runs $IMAGE_REF ($RELEASE_VERSION)"
printf '{"containerId":"%s","container":"%s","port":%s,"startedAt":"%s"}\n' "$id" "$NAME" "$PORT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
