# shellcheck shell=bash
# Removes the service's container, but only if it is still the one this
# resource started (PULUMI_COMMAND_STDOUT holds its id): after a replacement
# the name belongs to the new container, which must keep running.
# Environment: NAME, PULUMI_COMMAND_STDOUT.

want=$(printf "%s" "${PULUMI_COMMAND_STDOUT:-}" | sed -n 's/.*"containerId":"\([0-9a-f]*\)".*/\1/p')
cur=$(docker container inspect -f "{{.Id}}" "$NAME" 2>/dev/null || true)
if [ -n "$want" ] && [ "$cur" = "$want" ]; then
  docker rm -f "$NAME" >/dev/null && echo "container: removed $NAME"
else
  echo "container: $NAME is not the container this resource started; left as it is"
fi
