#!/usr/bin/env bash
# Installs what Palisade needs on a Debian 12 machine and builds the workspace.
# Idempotent: a second run only checks. Sourced by the demo, test and bench commands.
#   - npm packages: `npm ci` from the committed lock when node_modules is missing or older than
#     the lock (the lock is complete, so the tree stays clean)
#   - Debian packages for every tool the demo, the tests and the benchmarks run (table below);
#     installed with apt-get when missing (root), then each tool is checked again, so a missing
#     tool stops here with its package named instead of turning into a wrong verdict later
#   - nats-server >= 2.10 where possible (scripts/install-nats-server.sh)
#   - the TypeScript build (turbo, cached)
# PALISADE_SETUP_OPTIONAL=1 lets a machine without root continue without the kernel tools
# (the kernel tests then skip, naming what is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf 'setup: %s\n' "$*" >&2; }

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# tool → Debian package, for every command that the lab, the tests and the benchmarks spawn.
declare -A TOOL_PACKAGE=(
  [ip]=iproute2            # namespaces, veth, bridges
  [nft]=nftables           # loading and listing rulesets
  [sysctl]=procps          # br_netfilter and forwarding switches inside namespaces
  [ping]=iputils-ping      # the lab's ICMP echo probes
  [conntrack]=conntrack    # the lab flushes connection tracking between cases
  [openssl]=openssl        # the TLS tests generate their certificates
  [dpkg-deb]=dpkg          # unpacking the newer nats-server package
  [dockerd]=docker.io       # integration tests: node containers (deploy/docker/dockerd.sh starts it)
  [debootstrap]=debootstrap # integration tests: the local base image (deploy/images/build.sh)
  [perl]=perl-base         # the agent's NFLOG reader (nft-netlink relay/nflog-reader.pl)
  [cc]=gcc                 # nft-netlink's SO_SNDBUFFORCE addon (native/sndbuf.c, built by npm run build)
  [py:proxmoxer]=python3-proxmoxer  # the REST tests drive configd with Proxmox's Python client
  [py:requests]=python3-requests    # and read its raw error bodies
)
# `py:MODULE` entries are Python modules of Debian's /usr/bin/python3.
missing_tools() {
  local tool
  for tool in "${!TOOL_PACKAGE[@]}"; do
    if [[ $tool == py:* ]]; then
      /usr/bin/python3 -c "import ${tool#py:}" 2>/dev/null || printf '%s\n' "$tool"
    else
      command -v "$tool" >/dev/null || printf '%s\n' "$tool"
    fi
  done | sort
}
mapfile -t missing < <(missing_tools)
if ((${#missing[@]})); then
  packages=()
  for tool in "${missing[@]}"; do packages+=("${TOOL_PACKAGE[$tool]}"); done
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  fi
  mapfile -t missing < <(missing_tools)
  if ((${#missing[@]})); then
    for tool in "${missing[@]}"; do log "missing '$tool' (Debian package ${TOOL_PACKAGE[$tool]})"; done
    if [[ "${PALISADE_SETUP_OPTIONAL:-0}" != 1 ]]; then
      log "install them as root (apt-get install ${packages[*]}), or set PALISADE_SETUP_OPTIONAL=1 to skip the kernel tests"
      exit 1
    fi
    log "PALISADE_SETUP_OPTIONAL=1: continuing; the kernel tests will skip"
  fi
fi

if [[ -x scripts/install-nats-server.sh ]]; then
  NATS_SERVER="$(scripts/install-nats-server.sh)" || { log "no nats-server could be installed (the store tests need one)"; exit 1; }
  export NATS_SERVER
fi

log "building"
export TURBO_TELEMETRY_DISABLED=1
npx turbo run build --output-logs=errors-only >&2
