#!/usr/bin/env bash
# Starts, stops or describes extra Docker hosts on this one machine, for the
# several-hosts tests, demo and bench. Each host is a network namespace this
# script creates, with its own dockerd and containerd (own socket, data root,
# pid files), so its containers on host networking use the same port numbers
# as every other host's without colliding. Its address is the namespace's end
# of a veth pair (10.231.N.2); nothing is ever sent to any other address.
#
#   scripts/test-hosts.sh up N...     start hosts hN (N from 2 to 9), e.g. `up 2 3`
#   scripts/test-hosts.sh down        stop every host this script started
#   scripts/test-hosts.sh env N       print NAME ENDPOINT ADDRESS for host hN
#
# Inside a host's namespace, 127.0.0.1:5000 (the registry) and
# 127.0.0.1:5432 (PostgreSQL) reach the machine's own through socat and a unix
# socket, so the same image names and database URL work on every host.
# Host hN is reached two ways: its dockerd's unix socket, and ssh: an sshd on
# 127.0.0.1:2220N whose sessions talk to that dockerd, with a key generated
# here. `ssh` for it is configured in $STATE/hosts/ssh/config; the wrapper
# $STATE/hosts/bin/ssh (put it first on PATH) adds `-F` that file, so the
# docker CLI and the docker provider reach ssh://deploy-hN without anything
# written to ~/.ssh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${DEPLOY_LOCAL_STATE:-$ROOT/.local}"
H="$STATE/hosts"
REGISTRY_PORT="${REGISTRY_PORT:-5000}"
PG_PORT="${PG_PORT:-5432}"
FORWARDED=("$REGISTRY_PORT" "$PG_PORT")

die() { echo "test-hosts: $*" >&2; exit 1; }
say() { echo "test-hosts: $*"; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

need_packages() {
  local missing=()
  for pkg in openssh-server openssh-client socat iproute2 containerd; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}; run as root"
  say "installing ${missing[*]} (apt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$H/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed (see $H/apt.log)"
}

# start NAME PIDFILE COMMAND...: runs COMMAND in the background, its pid in PIDFILE.
start() {
  local name=$1 pidf=$2; shift 2
  "$@" >"$H/log/$name.log" 2>&1 &
  echo $! >"$pidf"
}

wait_for() { # wait_for SECONDS WHAT COMMAND...
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what did not come up within ${secs}s (logs in $H/log)"
}

# The machine's side of each forwarded port: a unix socket that connects to 127.0.0.1:PORT.
forwarders_up() {
  for port in "${FORWARDED[@]}"; do
    pid_alive "$H/run/fwd-$port.pid" && continue
    rm -f "$H/run/fwd-$port.sock"
    start "fwd-$port" "$H/run/fwd-$port.pid" socat "UNIX-LISTEN:$H/run/fwd-$port.sock,fork,mode=600" "TCP:127.0.0.1:$port"
    wait_for 10 "the forwarder of port $port" test -S "$H/run/fwd-$port.sock"
  done
}

ssh_keys() {
  mkdir -p "$H/ssh" "$H/bin"
  chmod 700 "$H/ssh"
  [ -f "$H/ssh/client" ] || ssh-keygen -q -t ed25519 -N "" -C deploy-test-client -f "$H/ssh/client"
  [ -f "$H/ssh/host" ] || ssh-keygen -q -t ed25519 -N "" -C deploy-test-host -f "$H/ssh/host"
  cp "$H/ssh/client.pub" "$H/ssh/authorized_keys"
  cat >"$H/bin/ssh" <<SH
#!/bin/sh
# ssh with the test hosts' client config (scripts/test-hosts.sh); nothing in ~/.ssh is read or written.
exec /usr/bin/ssh -F "$H/ssh/config" "\$@"
SH
  chmod 755 "$H/bin/ssh"
}

# The client config and known hosts of every host that is up.
ssh_config() {
  local d n
  : >"$H/ssh/config"
  : >"$H/ssh/known_hosts"
  # One ssh connection per host, reused by every docker command (as README advises for real hosts).
  cat >>"$H/ssh/config" <<CONF
Host deploy-h*
  ControlMaster auto
  ControlPath $H/run/ssh-%C
  ControlPersist 60s
CONF
  for d in "$H"/h[2-9]; do
    [ -d "$d" ] && pid_alive "$d/run/sshd.pid" || continue
    n=${d##*/h}
    cat >>"$H/ssh/config" <<CONF
Host deploy-h$n
  HostName 127.0.0.1
  Port 2220$n
  User root
  IdentityFile $H/ssh/client
  IdentitiesOnly yes
  UserKnownHostsFile $H/ssh/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
CONF
    echo "[127.0.0.1]:2220$n $(cut -d' ' -f1,2 "$H/ssh/host.pub")" >>"$H/ssh/known_hosts"
  done
}

host_up() {
  local n=$1 ns="deploy-h$1" dir="$H/h$1" veth="dh$1"
  local addr="10.231.$1.2"
  mkdir -p "$dir/run" "$dir/data"
  if pid_alive "$dir/run/dockerd.pid"; then say "h$n: already up"; else
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$veth" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip addr add "10.231.$n.1/24" dev "$veth"
    ip link set "$veth" up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    for port in "${FORWARDED[@]}"; do
      start "h$n-fwd-$port" "$dir/run/fwd-$port.pid" nsenter --net="/run/netns/$ns" \
        socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$H/run/fwd-$port.sock"
    done
    : >"$dir/containerd.toml"
    start "h$n-containerd" "$dir/run/containerd.pid" nsenter --net="/run/netns/$ns" containerd --config "$dir/containerd.toml" \
      --address "$dir/run/containerd.sock" --root "$dir/data/containerd" --state "$dir/run/containerd-state"
    wait_for 30 "h$n's containerd" test -S "$dir/run/containerd.sock"
    start "h$n-dockerd" "$dir/run/dockerd.pid" nsenter --net="/run/netns/$ns" dockerd --bridge=none --iptables=false --ip6tables=false \
      --ip-masq=false --containerd "$dir/run/containerd.sock" -H "unix://$dir/run/docker.sock" --data-root "$dir/data/docker" \
      --exec-root "$dir/run/exec" --pidfile "$dir/run/dockerd.self.pid"
    wait_for 60 "h$n's dockerd" docker -H "unix://$dir/run/docker.sock" info
  fi
  if ! pid_alive "$dir/run/sshd.pid"; then
    cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1:2220$n
HostKey $H/ssh/host
PidFile $dir/run/sshd.self.pid
AuthorizedKeysFile $H/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv DOCKER_HOST=unix://$dir/run/docker.sock
CONF
    mkdir -p /run/sshd
    start "h$n-sshd" "$dir/run/sshd.pid" /usr/sbin/sshd -D -e -f "$dir/sshd_config"
  fi
  say "h$n: up: unix://$dir/run/docker.sock, ssh://deploy-h$n, address $addr"
}

stop_pid() { if pid_alive "$1"; then kill "$(cat "$1")" 2>/dev/null || true; for _ in $(seq 1 100); do pid_alive "$1" || break; sleep 0.2; done; fi; rm -f "$1"; }

host_down() {
  local dir=$1 n ns
  n=${dir##*/h}; ns="deploy-h$n"
  if [ -S "$dir/run/docker.sock" ] && pid_alive "$dir/run/dockerd.pid"; then
    docker -H "unix://$dir/run/docker.sock" ps -aq 2>/dev/null | xargs -r docker -H "unix://$dir/run/docker.sock" rm -f >/dev/null 2>&1 || true
  fi
  for p in sshd dockerd containerd; do stop_pid "$dir/run/$p.pid"; done
  for f in "$dir"/run/fwd-*.pid; do [ -e "$f" ] && stop_pid "$f"; done
  # dockerd can leave its network namespace mount under its exec root behind: unmount what is left there.
  { findmnt -rn -o TARGET | grep "^$dir/" || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  ip link del "dh$n" 2>/dev/null || true
  say "h$n: down"
}

mkdir -p "$H/run" "$H/log"
case "${1:-}" in
  up)
    shift
    [ $# -gt 0 ] || die "usage: $0 up N... (N from 2 to 9)"
    for n in "$@"; do [[ "$n" =~ ^[2-9]$ ]] || die "host number $n is invalid: must be 2 to 9"; done
    [ "$(id -u)" = 0 ] || die "must run as root (network namespaces, dockerd, sshd)"
    need_packages
    ssh_keys
    forwarders_up
    for n in "$@"; do host_up "$n"; done
    ssh_config
    for n in "$@"; do
      wait_for 20 "h$n's sshd" env PATH="$H/bin:$PATH" DOCKER_HOST="ssh://deploy-h$n" docker version -f '{{.Server.Version}}'
    done
    ;;
  down)
    for d in "$H"/h[2-9]; do [ -d "$d" ] && host_down "$d"; done
    for f in "$H"/run/fwd-*.pid; do [ -e "$f" ] && stop_pid "$f"; done
    ssh_config
    ;;
  env)
    [[ "${2:-}" =~ ^[2-9]$ ]] || die "usage: $0 env N"
    echo "h$2 unix://$H/h$2/run/docker.sock ssh://deploy-h$2 10.231.$2.2"
    ;;
  *) echo "usage: $0 up N...|down|env N" >&2; exit 2 ;;
esac
