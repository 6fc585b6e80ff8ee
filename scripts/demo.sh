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

step "palisade lab run: the same ruleset in network namespaces, real packets for examples/cases-pve1.jsonl"
if [[ $(id -u) -eq 0 ]] && command -v nft >/dev/null; then
  palisade simulate --config examples/pve --node pve1 --cases examples/cases-pve1.jsonl >"${TMPDIR:-/tmp}/palisade-sim.jsonl"
  palisade lab run --config examples/pve --node pve1 --cases examples/cases-pve1.jsonl | tee "${TMPDIR:-/tmp}/palisade-lab.jsonl"
  node -e '
    const fs = require("fs");
    const read = (f) => fs.readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const sim = read(process.argv[1]), lab = read(process.argv[2]);
    const agree = sim.filter((s, i) => lab[i] && (lab[i].verdict === s.verdict || lab[i].verdict === "SKIP")).length;
    console.log(`kernel and simulate agree on ${agree} of ${sim.length} cases`);
    process.exitCode = agree === sim.length ? 0 : 1;
  ' "${TMPDIR:-/tmp}/palisade-sim.jsonl" "${TMPDIR:-/tmp}/palisade-lab.jsonl"
else
  echo "(skipped: the lab needs root and nft)"
fi
