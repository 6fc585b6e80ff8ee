#!/usr/bin/env bash
# The README's main command: sets the machine up, then shows Palisade on the bundled example
# cluster (examples/pve): check, compile, simulate, and real packets in network namespaces.
# Touches nothing outside the namespaces it creates (and removes).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh
palisade() { node packages/cli/bin/palisade.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "palisade check examples/pve   (every document of the example cluster, names resolved across them)"
palisade check examples/pve

step "palisade check on documents with mistakes (exit status 1 is expected)"
palisade check packages/fw-lang/test/golden/07-rules-invalid-host.fw | head -8 || true

step "palisade compile --config examples/pve --node pve1   (host chain shown; the whole ruleset is one nft transaction)"
palisade compile --config examples/pve --node pve1 | sed -n '/chain PVEFW-HOST-IN {/,/^\t}/p'

step "palisade simulate: outside -> vm100 udp/161 (the guest rejects it)"
palisade simulate --config examples/pve --node pve1 --from outside --to vm100 --proto udp --dport 161

WORK_LAB="$(mktemp "${TMPDIR:-/tmp}/palisade-lab.XXXXXX")"
step "palisade lab run: the same ruleset in network namespaces, real packets for examples/cases-pve1.jsonl"
if [[ $(id -u) -eq 0 ]] && command -v nft >/dev/null; then
  # Each line carries the kernel's verdict, simulate's, and whether they agree (exit 1 if not).
  palisade lab run --config examples/pve --node pve1 --cases examples/cases-pve1.jsonl | tee "$WORK_LAB"
  echo "kernel and simulate agree on $(grep -c '"agree":true' "$WORK_LAB") of $(wc -l <"$WORK_LAB") cases"
  rm -f "$WORK_LAB"
else
  echo "(skipped: the lab needs root and nft)"
fi

step "configd: a one-node store on embedded defaults (nats-server with JetStream + palisade-configd, in a temporary directory)"
NATS_BIN="$(scripts/install-nats-server.sh)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/palisade-demo.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
NATS_PORT="$(free_port)"; CONFIGD_PORT="$(free_port)"
"$NATS_BIN" -js -sd "$WORK/jetstream" -a 127.0.0.1 -p "$NATS_PORT" >"$WORK/nats.log" 2>&1 &
pids+=($!)
node_modules/.bin/palisade-configd --node pve1 --nats "nats://127.0.0.1:$NATS_PORT" \
  --listen "127.0.0.1:$CONFIGD_PORT" --data "$WORK/configd" >"$WORK/configd.log" 2>&1 &
pids+=($!)
export PALISADE_SERVER="127.0.0.1:$CONFIGD_PORT"
for _ in $(seq 1 100); do palisade status >/dev/null 2>&1 && break; sleep 0.1; done
palisade status

step "palisade import examples/pve   (validated first, then every document written with a revision)"
palisade import examples/pve
palisade ls

step "palisade fw rules list --vm 100   (the Proxmox firewall API: stable ids, positions, digest)"
palisade fw rules list --vm 100

step "palisade fw rules add --vm 100 ...   (read-modify-write with compare-and-set; comments and order kept)"
palisade fw rules add --vm 100 --type in --action ACCEPT --proto tcp --dport 443 --comment "https from anywhere"
palisade get firewall/100.fw

step "an invalid write is refused with every diagnostic, nothing stored (exit status 1 is expected)"
printf '[RULES]\nIN ACCEPT -dport 22\nIN ACCEPT -iface net0\n' | palisade put firewall/100.fw --file - || true

step "palisade history / diff firewall/100.fw"
palisade history firewall/100.fw
revs=($(palisade history firewall/100.fw | awk '{print $1}' | sort -n))
[[ ${#revs[@]} -ge 2 ]] && palisade diff firewall/100.fw "${revs[0]}" "${revs[-1]}"

step "palisade export, then compile from what configd holds"
palisade export "$WORK/export"
palisade compile --config "$WORK/export" --node pve1 | grep -n 'dport 443' || true
