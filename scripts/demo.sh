#!/usr/bin/env bash
# The README's main command: sets the machine up, then shows Palisade on the bundled example
# cluster (examples/pve). Touches nothing outside its own network namespaces.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh
palisade() { node packages/cli/bin/palisade.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "palisade check examples/pve   (every document of the example cluster, names resolved across them)"
palisade check examples/pve || true

step "palisade show examples/pve/firewall/100.fw"
palisade show examples/pve/firewall/100.fw
