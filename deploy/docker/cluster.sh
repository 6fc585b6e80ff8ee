#!/usr/bin/env bash
# A three-node Palisade cluster on one machine, in plain docker (Debian 12's docker.io has no
# `docker compose`): each node container runs nats-server (clustered), configd and node-agent;
# the agent applies to the container's own network namespace, guests are namespaces inside it.
#
#   deploy/docker/cluster.sh up       # build the image if needed, start pve1..pve3, wait until quorate
#   deploy/docker/cluster.sh status   # each node's configd status and agent status
#   deploy/docker/cluster.sh exec pve1 palisade ls     # any command on a node
#   deploy/docker/cluster.sh down     # remove the containers and the network
#
# Env: PALISADE_CLUSTER (name, default "palisade": containers palisade-pve1.., network
# palisade-net), PALISADE_SUBNET (first three octets, default 10.10.10: node i is .i, as in
# examples/pve/corosync.conf), PALISADE_IMAGE (default: what deploy/images/build.sh builds).
# Everything it creates carries the label org.palisade.cluster=<name>; `down` removes exactly that.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NAME="${PALISADE_CLUSTER:-palisade}"
SUBNET="${PALISADE_SUBNET:-10.10.10}"
NODES=(pve1 pve2 pve3)
LABEL="org.palisade.cluster=$NAME"
NET="$NAME-net"
log() { printf 'cluster: %s\n' "$*" >&2; }

node_exec() { local n="$1"; shift; docker exec "$NAME-$n" "$@"; }

wait_quorate() {
  local n i
  for n in "${NODES[@]}"; do
    for ((i = 0; i < 240; i++)); do
      [[ "$(docker inspect -f '{{.State.Running}}' "$NAME-$n")" == true ]] || { log "$NAME-$n stopped:"; docker logs --tail 20 "$NAME-$n" >&2; exit 1; }
      node_exec "$n" palisade status --timeout 2000 2>/dev/null | grep -q 'quorate: yes' && break
      ((i == 239)) && { log "$n is not quorate after 120 s"; node_exec "$n" tail -5 /var/log/palisade/configd.log >&2; exit 1; }
      sleep 0.5
    done
  done
}

up() {
  local image="${PALISADE_IMAGE:-}" peers="" i
  [[ -n "$image" ]] || image="$("$ROOT/deploy/images/build.sh")"
  docker network inspect "$NET" >/dev/null 2>&1 ||
    docker network create --label "$LABEL" --subnet "$SUBNET.0/24" --gateway "$SUBNET.254" "$NET" >/dev/null
  for ((i = 1; i <= ${#NODES[@]}; i++)); do peers+="${peers:+,}$SUBNET.$i"; done
  for ((i = 1; i <= ${#NODES[@]}; i++)); do
    local n="${NODES[$((i - 1))]}"
    docker container inspect "$NAME-$n" >/dev/null 2>&1 && continue
    # NET_ADMIN: nftables and links; SYS_ADMIN: `ip netns` for the guests and a writable /proc/sys.
    docker run -d --name "$NAME-$n" --hostname "$n" --label "$LABEL" \
      --network "$NET" --ip "$SUBNET.$i" --cap-add NET_ADMIN --cap-add SYS_ADMIN \
      -e NODE="$n" -e PEERS="$peers" "$image" >/dev/null
    log "started $NAME-$n ($SUBNET.$i)"
  done
  wait_quorate
  log "up: ${NODES[*]} quorate; try: deploy/docker/cluster.sh exec pve1 palisade import /opt/palisade/examples/pve"
}

status() {
  local n
  for n in "${NODES[@]}"; do
    echo "== $n"
    node_exec "$n" palisade status --timeout 3000 || true
    node_exec "$n" palisade agent status --agent 127.0.0.1:7401 || true
  done
}

down() {
  docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null
  docker network ls -q --filter "label=$LABEL" | xargs -r docker network rm >/dev/null
  log "down: containers and network of '$NAME' removed"
}

case "${1:-}" in
  up) up ;;
  status) status ;;
  exec) shift; node_exec "$@" ;;
  down) down ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
