#!/usr/bin/env bash
# A docker daemon for the local cluster and the integration tests, for machines that have none
# running (Debian's docker.io installed, no service started).
#
#   deploy/docker/dockerd.sh start   # prints DOCKER_HOST=...; reuses a daemon that answers
#   deploy/docker/dockerd.sh stop    # stops the daemon this script started (by its PID)
#   deploy/docker/dockerd.sh host    # prints the DOCKER_HOST to use (empty: the default socket)
#
# The daemon it starts lives in a network namespace of its own (`palisade-dockerd`): its
# bridges, veths and iptables rules are made there, so the machine's own network namespace is
# never changed. The consequence: containers reach each other, not the machine's network (the
# images are built locally, nothing is pulled), and they are reached with `docker exec`.
# Socket /run/palisade-dockerd/docker.sock, data (the image cache) /var/lib/palisade-docker.
set -euo pipefail
NETNS=palisade-dockerd
RUN=/run/palisade-dockerd
SOCK="$RUN/docker.sock"
DATA=/var/lib/palisade-docker
log() { printf 'dockerd: %s\n' "$*" >&2; }

answers() { DOCKER_HOST="$1" timeout 10 docker info >/dev/null 2>&1; }

host() {
  if [[ -n "${DOCKER_HOST:-}" ]] && answers "$DOCKER_HOST"; then echo "$DOCKER_HOST"; return 0; fi
  if [[ -S /var/run/docker.sock ]] && answers unix:///var/run/docker.sock; then echo ""; return 0; fi
  if [[ -S "$SOCK" ]] && answers "unix://$SOCK"; then echo "unix://$SOCK"; return 0; fi
  return 1
}

start() {
  local h
  if h="$(host)"; then echo "DOCKER_HOST=$h"; return 0; fi
  command -v dockerd >/dev/null || { log "dockerd is missing (Debian package docker.io)"; exit 1; }
  [[ $(id -u) -eq 0 ]] || { log "starting dockerd needs root"; exit 1; }
  mkdir -p "$RUN"
  exec 9>"$RUN/lock"
  flock 9
  if h="$(host)"; then echo "DOCKER_HOST=$h"; return 0; fi
  ip netns list | grep -qw "^$NETNS" || { ip netns add "$NETNS"; ip -n "$NETNS" link set lo up; }
  # `ip netns exec` gives the daemon a fresh /sys for the namespace, which hides the cgroup
  # hierarchies: mount them again (inside that private mount namespace only).
  ip netns exec "$NETNS" setsid bash -c '
    set -e
    if ! mountpoint -q /sys/fs/cgroup/devices; then
      mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
      for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
        grep -qw "$c" /proc/cgroups || continue
        mkdir -p /sys/fs/cgroup/$c; mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
      done
      mkdir -p /sys/fs/cgroup/systemd; mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
    fi
    exec dockerd --host "unix://$1" --pidfile "$2/dockerd.pid" --exec-root "$2/exec" --data-root "$3"
  ' dockerd "$SOCK" "$RUN" "$DATA" >"$RUN/dockerd.log" 2>&1 </dev/null 9>&- &
  local i
  for ((i = 0; i < 120; i++)); do
    if answers "unix://$SOCK"; then
      touch "$RUN/started-here"
      log "started (log $RUN/dockerd.log)"
      echo "DOCKER_HOST=unix://$SOCK"
      return 0
    fi
    sleep 0.5
  done
  log "dockerd did not answer within 60 s; its log:"
  tail -20 "$RUN/dockerd.log" >&2
  exit 1
}

stop() {
  [[ -f "$RUN/started-here" && -f "$RUN/dockerd.pid" ]] || { log "no daemon started by this script"; return 0; }
  local pid i
  pid="$(cat "$RUN/dockerd.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$RUN/started-here"
  ip netns del "$NETNS" 2>/dev/null || true
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  host) host || { log "no docker daemon answers"; exit 1; } ;;
  *) echo "usage: $0 start|stop|host" >&2; exit 2 ;;
esac
