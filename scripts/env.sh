# shellcheck shell=bash
# Source this file (". scripts/env.sh") to run pulumi and deployctl by hand
# against the project's toolchain, local state backend and local services.
# Every variable it sets can be overridden by setting it first.
_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
case ":$PATH:" in *":$_root/.tools/bin:"*) ;; *) export PATH="$_root/.tools/bin:$PATH" ;; esac
export PULUMI_SKIP_UPDATE_CHECK=true
# The project-built CLI and its stand-in plugins live in their own Pulumi home;
# the user's ~/.pulumi is never read or written by them.
export PULUMI_HOME="$_root/.tools/pulumi-home"
# Plugins come from scripts/install-tools.sh; the project's CLI never downloads one.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Self-managed state backend (with locking) under .state/, unless one is set.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_root/.state}"
mkdir -p "$_root/.state" "$_root/.local"
# Passphrase for the local stacks' secrets, generated once and kept out of git.
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  [ -f "$_root/.local/passphrase" ] || (umask 077; head -c 24 /dev/urandom | base64 >"$_root/.local/passphrase")
  export PULUMI_CONFIG_PASSPHRASE_FILE="$_root/.local/passphrase"
fi
unset _root
