# shellcheck shell=bash
# Removes the container this resource started (PULUMI_COMMAND_STDOUT holds its
# id), if it still exists: after a replacement the new resource's container
# runs under another id (or, without a proxy, under the same name) and must
# keep running.
# Environment: NAME, PULUMI_COMMAND_STDOUT.

want=$(printf "%s" "${PULUMI_COMMAND_STDOUT:-}" | sed -n 's/.*"containerId":"\([0-9a-f]*\)".*/\1/p')
if [ -n "$want" ] && docker container inspect "$want" >/dev/null 2>&1; then
  docker rm -f "$want" >/dev/null && echo "container: removed ${want:0:12} ($NAME)"
else
  echo "container: the container this resource started for $NAME is gone; nothing to remove"
fi
