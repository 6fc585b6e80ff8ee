#!/usr/bin/env bash
# Installs what Palisade needs on a Debian 12 machine and builds the workspace.
# Idempotent: a second run only checks. Used by the demo and test commands.
#   - npm packages (npm install when node_modules is missing or older than package-lock.json;
#     not `npm ci`: with this machine's `omit-lockfile-registry-resolved` setting npm 11 writes
#     lock files that `npm ci` then calls out of sync, while `npm install` follows them)
#   - Debian packages: nftables, iproute2 (root only; skipped with a note otherwise)
#   - nats-server >= 2.10 where possible (scripts/install-nats-server.sh)
#   - the TypeScript build (turbo, cached)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf 'setup: %s\n' "$*" >&2; }

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
fi

missing=()
command -v nft >/dev/null || missing+=(nftables)
command -v ip >/dev/null || missing+=(iproute2)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "missing ${missing[*]} (needs root and apt-get); kernel tests will be skipped"
  fi
fi

if [[ -x scripts/install-nats-server.sh ]]; then
  NATS_SERVER="$(scripts/install-nats-server.sh)" || log "no nats-server available; store tests will fail"
  export NATS_SERVER
fi

log "building"
npx turbo run build --output-logs=errors-only >&2
