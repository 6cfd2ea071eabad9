# shellcheck shell=bash
# Functions both container switches use (switch.sh, switch-proxy.sh), put in
# front of them by components/appService.ts.
#
# Environment: IMAGE_REF, APP_HOST, HEALTH_PATH, HEALTH_TIMEOUT,
# RELEASE_VERSION, RELEASE_GIT_SHA, RELEASE_DIGEST, NAME and APP_ENV_KEYS
# (names of further variables handed to the container without putting values
# on a command line).

# run_release CONTAINER PORT [LABEL=VALUE ...]: starts the release image on
# host networking and prints its id (nothing when docker run fails).
run_release() {
  local container=$1 port=$2 envargs=() labels=()
  shift 2
  for k in $APP_ENV_KEYS; do envargs+=(-e "$k"); done
  for l in "$@"; do labels+=(--label "$l"); done
  docker run -d --name "$container" --network host --restart unless-stopped -e "PORT=$port" "${envargs[@]}" \
    --label "org.opencontainers.image.version=$RELEASE_VERSION" --label "org.opencontainers.image.revision=$RELEASE_GIT_SHA" \
    --label "release.digest=$RELEASE_DIGEST" --label "release.service=$NAME" "${labels[@]}" "$IMAGE_REF" || true
}

# healthy PORT: the health path answers on APP_HOST:PORT within HEALTH_TIMEOUT seconds
# (asked every 50 ms: the switch waits on the first answer, so a coarser poll only adds to it).
healthy() {
  # SECONDS counts whole seconds, so one more makes the wait at least HEALTH_TIMEOUT.
  local deadline=$((SECONDS + HEALTH_TIMEOUT + 1))
  while :; do
    curl -fsS --max-time 2 "http://$APP_HOST:$1$HEALTH_PATH" >/dev/null 2>&1 && return 0
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# discard CONTAINER ID: its last log lines to stderr (when it started), then removes it.
discard() {
  if [ -n "$2" ]; then docker logs --tail 20 "$1" >&2 2>&1 || true; fi
  docker rm -f "$1" >/dev/null 2>&1 || true
}
