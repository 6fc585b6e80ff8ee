#!/usr/bin/env bash
# The README's main command: sets the machine up, then shows Palisade on the bundled example
# cluster (examples/pve): check, compile, simulate, real packets in network namespaces, then the
# whole system (nats-server, configd, logger, a node agent applying into a namespace).
# Touches nothing outside the namespaces it creates (and removes). `--keep` leaves the cluster
# running until Ctrl-C.
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

step "the whole system: configd, logger and a node agent on one machine (scripts/demo/cluster.mjs)"
NATS_BIN="$(scripts/install-nats-server.sh)"
exec node scripts/demo/cluster.mjs --nats-server "$NATS_BIN" "$@"
