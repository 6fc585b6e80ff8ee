#!/usr/bin/env bash
# Inside a Palisade node container: starts and stops the node's services and builds simulated
# guests. The container's own network namespace is the node; guests are namespaces inside it.
#
#   node-ctl.sh start|stop|restart nats|configd|agent|all
#   node-ctl.sh pid nats|configd|agent          # PID, exit 1 when not running
#   node-ctl.sh bridge                          # vmbr0 (GUEST_NET) and the `outside` namespace on it
#   node-ctl.sh guest-add VMID MAC IP/LEN       # tap<VMID>i0 ─ fwbr ─ fwln ═ fwpr ─ vmbr0, namespace vm<VMID>
#   node-ctl.sh guest-del VMID
#   node-ctl.sh listen NS PORT...               # TCP listeners in namespace NS ("node": the node itself)
#   node-ctl.sh probe NS HOST PORT [tcp|udp]    # prints open, closed (reset/unreachable) or silent
#   node-ctl.sh wait-nft TEXT SECONDS           # waits until Palisade's table contains TEXT; prints the time (ms since epoch)
#   node-ctl.sh jsz                             # the local nats-server's /jsz?streams=true (JSON)
#
# Environment (set on the container): NODE (e.g. pve1), PEERS (the cluster's node addresses,
# comma-separated, for the NATS routes), GUEST_NET (host address on vmbr0, default
# 192.0.2.1/24), OUTSIDE_IP (the outside namespace on vmbr0, default 192.0.2.10/24),
# CONFIGD_ARGS / AGENT_ARGS (extra options).
set -euo pipefail
# Only inside a node container (it starts services and builds namespaces).
[[ -n "${NODE:-}" && -x /opt/palisade/deploy/docker/node-entrypoint.sh ]] || { sed -n '2,18p' "$0" >&2; echo "node-ctl: run it inside a Palisade node container" >&2; exit 2; }
RUN=/run/palisade
LOGS=/var/log/palisade
DATA=/var/lib/palisade
die() { printf 'node-ctl: %s\n' "$*" >&2; exit 1; }

nats_conf() {
  local routes="" p
  IFS=, read -ra peers <<<"${PEERS:-}"
  for p in "${peers[@]}"; do [[ -n "$p" ]] && routes+="    nats-route://$p:6222"$'\n'; done
  cat <<EOF
server_name: ${NODE}
listen: 0.0.0.0:4222
http: 127.0.0.1:8222
jetstream {
  store_dir: ${DATA}/nats
  sync_interval: always
  max_memory_store: 64MB
  max_file_store: 1GB
}
EOF
  [[ -n "$routes" ]] && printf 'cluster {\n  name: palisade\n  listen: 0.0.0.0:6222\n  routes: [\n%s  ]\n}\n' "$routes"
}

command_of() {
  case "$1" in
    nats) echo "nats-server -c $RUN/nats.conf" ;;
    configd) echo "palisade-configd --node $NODE --nats nats://127.0.0.1:4222 --listen 127.0.0.1:7400 --data $DATA/configd ${CONFIGD_ARGS:-}" ;;
    # --nats: the firewall log (NFLOG) goes to the PALISADE_LOG stream for the logger.
    agent) echo "palisade-agent --node $NODE --data $DATA/agent --configd 127.0.0.1:7400 --listen 127.0.0.1:7401 --nats nats://127.0.0.1:4222 ${AGENT_ARGS:-}" ;;
    *) die "unknown service '$1' (nats, configd, agent)" ;;
  esac
}

pid_of() {
  local f="$RUN/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# Whether HOST is up: a TCP connect to its route port is answered (accepted or refused) within
# a second, rather than timing out while the container's address is not there yet.
peer_answers() {
  local err
  err="$(timeout 1 bash -c "exec 3<>/dev/tcp/$1/6222" 2>&1)" && return 0
  [[ "$err" == *refused* ]]
}

# The first start of a cluster: wait (30 s at most) until every peer's address answers, so that
# the three nats-servers bootstrap JetStream together. One that came up a second or two after
# the other two was seen left out of the JetStream meta group for good (its peers then refuse
# replicated streams: "no suitable peers for placement") until its nats-server restarted.
await_peers_on_first_start() {
  [[ -d "$DATA/nats/jetstream" ]] && return 0
  local p i waiting
  IFS=, read -ra peers <<<"${PEERS:-}"
  for ((i = 0; i < 60; i++)); do
    waiting=()
    for p in "${peers[@]}"; do [[ -n "$p" ]] && ! peer_answers "$p" && waiting+=("$p"); done
    ((${#waiting[@]} == 0)) && return 0
    sleep 0.5
  done
  echo "node-ctl: peers ${waiting[*]} do not answer after 30 s; starting nats-server anyway" >&2
}

start_one() {
  local svc="$1"
  pid_of "$svc" >/dev/null && return 0
  mkdir -p "$RUN" "$LOGS" "$DATA"
  if [[ "$svc" == nats ]]; then
    nats_conf >"$RUN/nats.conf"
    await_peers_on_first_start
  fi
  # shellcheck disable=SC2046 # word splitting of the command line is wanted
  setsid $(command_of "$svc") >>"$LOGS/$svc.log" 2>&1 </dev/null &
  echo $! >"$RUN/$svc.pid"
}

stop_one() {
  local svc="$1" pid i
  pid="$(pid_of "$svc")" || return 0
  kill -TERM "$pid"
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$RUN/$svc.pid"
}

services() { if [[ "$1" == all ]]; then echo nats configd agent; else echo "$1"; fi; }

# vmbr0 with the node's guest-network address and an `outside` namespace on it (port out0).
ensure_bridge() {
  ip link show vmbr0 >/dev/null 2>&1 && return 0
  ip link add vmbr0 type bridge mcast_snooping 0
  ip addr add "${GUEST_NET:-192.0.2.1/24}" dev vmbr0
  ip link set vmbr0 up
  ip netns add outside
  ip link add out0 type veth peer name eth0 netns outside
  ip link set out0 master vmbr0 up
  ip -n outside link set lo up
  ip -n outside addr add "${OUTSIDE_IP:-192.0.2.10/24}" dev eth0
  ip -n outside link set eth0 up
}

guest_add() {
  local vmid="$1" mac="$2" addr="$3"
  ensure_bridge
  ip netns add "vm$vmid"
  ip link add "tap${vmid}i0" type veth peer name eth0 netns "vm$vmid"
  ip link add "fwbr${vmid}i0" type bridge mcast_snooping 0
  ip link set "fwbr${vmid}i0" up
  ip link set "tap${vmid}i0" master "fwbr${vmid}i0" up
  ip link add "fwln${vmid}i0" type veth peer name "fwpr${vmid}p0"
  ip link set "fwln${vmid}i0" master "fwbr${vmid}i0" up
  ip link set "fwpr${vmid}p0" master vmbr0 up
  ip -n "vm$vmid" link set lo up
  ip -n "vm$vmid" link set eth0 address "$mac" up
  ip -n "vm$vmid" addr add "$addr" dev eth0
}

guest_del() {
  local vmid="$1"
  # Processes in the namespace (listeners) would keep it, and the tap link, alive.
  ip netns pids "vm$vmid" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  ip netns del "vm$vmid" 2>/dev/null || true
  ip link del "tap${vmid}i0" 2>/dev/null || true
  ip link del "fwln${vmid}i0" 2>/dev/null || true
  ip link del "fwbr${vmid}i0" 2>/dev/null || true
}

in_ns() { if [[ "$1" == node ]]; then shift; "$@"; else local ns="$1"; shift; ip netns exec "$ns" "$@"; fi; }

case "${1:-}" in
  start) for s in $(services "${2:?service}"); do start_one "$s"; done ;;
  stop) for s in $(services "${2:?service}" | tr ' ' '\n' | tac); do stop_one "$s"; done ;;
  restart) for s in $(services "${2:?service}"); do stop_one "$s"; start_one "$s"; done ;;
  pid) pid_of "${2:?service}" ;;
  bridge) ensure_bridge ;;
  guest-add) guest_add "${2:?vmid}" "${3:?mac}" "${4:?address}" ;;
  guest-del) guest_del "${2:?vmid}" ;;
  listen)
    ns="${2:?namespace}"; shift 2
    in_ns "$ns" setsid node -e "const n=require('net');for(const p of process.argv.slice(1))n.createServer(s=>s.end()).listen(+p,'0.0.0.0')" "$@" \
      >/dev/null 2>&1 </dev/null &
    ;;
  probe)
    in_ns "${2:?namespace}" node /opt/palisade/deploy/docker/probe.mjs "${3:?host}" "${4:?port}" "${5:-tcp}" ;;
  wait-nft)
    deadline=$(($(date +%s) + ${3:?seconds}))
    until nft list table inet palisade 2>/dev/null | grep -qF -- "${2:?text}"; do
      (($(date +%s) < deadline)) || die "'$2' not in the kernel after $3 s"
      sleep 0.05
    done
    date +%s%3N ;;
  jsz) node -e "fetch('http://127.0.0.1:8222/jsz?streams=true').then(r=>r.text()).then(t=>process.stdout.write(t))" ;;
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
