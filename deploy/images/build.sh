#!/usr/bin/env bash
# Builds the Palisade node image locally, without any image registry:
#   1. a Debian bookworm base: `debootstrap --variant=minbase` from this machine's apt mirror
#      (with the node's OS packages: nftables, iproute2, procps, iputils-ping, and netbase for
#      /etc/protocols, which nft needs to resolve names such as ipv6-icmp), then
#      `tar -C DIR -c . | docker import -`  →  palisade-base:bookworm-<hash>
#   2. the node image on top of it: nats-server (the one scripts/install-nats-server.sh put in
#      .cache/), this machine's node binary and node_modules (palisade-runtime:<hash>, rebuilt
#      when the lock or a binary changes), then the built repository  →  palisade-node:<hash>,
#      also tagged palisade-node:latest
# Each tag is a content hash of what went into it, so a second run with nothing changed only
# checks (about a second). Older palisade-node images are removed. Prints the node image's tag
# on stdout; progress goes to stderr.
#
# Needs: root, docker (a daemon that answers; see deploy/docker/dockerd.sh), debootstrap, a
# built repository (npm run build) and nats-server >= 2.10 (scripts/install-nats-server.sh).
# Env: PALISADE_DEBIAN_MIRROR overrides the mirror; NATS_SERVER the nats-server binary.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
log() { printf 'build-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

SUITE=bookworm
OS_PACKAGES=nftables,iproute2,procps,iputils-ping,netbase
LABEL=org.palisade.image

command -v docker >/dev/null || die "docker is missing (Debian package docker.io)"
docker info >/dev/null 2>&1 || die "no docker daemon answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start one with deploy/docker/dockerd.sh start"

# The mirror of this machine's bookworm apt source (deb822 .sources or one-line sources.list).
debian_mirror() {
  if [[ -n "${PALISADE_DEBIAN_MIRROR:-}" ]]; then echo "$PALISADE_DEBIAN_MIRROR"; return; fi
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri="$(awk -v s="$SUITE" '
      /^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
      /^$/ { if (ok && u != "") { print u; exit } u = ""; ok = 0 }
      END { if (ok && u != "") print u }' "$f" | head -1)"
    [[ -n "$uri" ]] && { echo "$uri"; return; }
  done
  uri="$(awk -v s="$SUITE" '$1 == "deb" && $3 == s { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
  [[ -n "$uri" ]] && { echo "$uri"; return; }
  die "no $SUITE source in /etc/apt/sources.list{,.d}; set PALISADE_DEBIAN_MIRROR"
}

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# --- 1. the base image -----------------------------------------------------------------------
MIRROR="$(debian_mirror)"
BASE_HASH="$(printf '%s\n' "$SUITE" minbase "$OS_PACKAGES" "$MIRROR" v1 | sha256sum | cut -c1-12)"
BASE="palisade-base:$SUITE-$BASE_HASH"
if has_image "$BASE"; then
  log "base image $BASE is there"
else
  command -v debootstrap >/dev/null || die "debootstrap is missing (Debian package debootstrap)"
  WORK="$(mktemp -d /tmp/palisade-base.XXXXXX)"
  trap 'rm -rf "$WORK"' EXIT
  log "debootstrap --variant=minbase $SUITE from $MIRROR (about a minute)"
  debootstrap --variant=minbase --include="$OS_PACKAGES" "$SUITE" "$WORK/root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  # Smaller image: no package lists or caches.
  rm -rf "$WORK/root/var/cache/apt/archives"/*.deb "$WORK/root/var/lib/apt/lists"/*
  tar -C "$WORK/root" -c . | docker import --change "LABEL $LABEL=base" --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$WORK"
  trap - EXIT
  log "imported $BASE"
fi

# --- 2. the node image -----------------------------------------------------------------------
NATS_BIN="${NATS_SERVER:-$(scripts/install-nats-server.sh)}"
NODE_BIN="$(readlink -f "$(command -v node)")"
[[ -x "$NATS_BIN" ]] || die "no nats-server binary ($NATS_BIN)"
for d in services/configd services/node-agent packages/cli; do
  [[ -f "$d/dist/main.js" || -f "$d/dist/index.js" ]] || die "$d is not built; run npm run build first"
done

# What goes into /opt/palisade: each workspace's package.json, bin/ and what its "files" names
# (dist/, nft-netlink's relay/ and native/), the native build outputs, the examples and deploy/;
# node_modules without the build/lint/test tools (runtime dependencies only).
NODE_MODULES_EXCLUDES=(@bufbuild/buf '@bufbuild/buf-*' @turbo turbo 'turbo-*' typescript dprint-node @rolldown rolldown lightningcss 'lightningcss-*' eslint 'eslint-*' @eslint @typescript-eslint typescript-eslint vitest @vitest vite esbuild @esbuild @types fast-check testcontainers docker-compose dockerode docker-modem ssh2 cpu-features @palisade/integration-tests)
content_list() {
  git ls-files -z --cached --others --exclude-standard -- examples deploy package.json package-lock.json | xargs -0 -r ls -d 2>/dev/null
  local ws
  for ws in packages/*/ services/*/; do
    [[ -f "$ws/package.json" ]] || continue
    echo "${ws}package.json"
    node -e 'const p = require(process.argv[1]); for (const f of [...(p.files ?? ["dist"]), "bin", "native/build"]) console.log(f)' "$ROOT/${ws}package.json" |
      while read -r f; do if [[ -e "$ws$f" ]]; then find "$ws$f" -type f; fi; done
  done
  return 0
}
build_quiet() { # TAG CONTEXT: the classic builder (no BuildKit front-end image to pull)
  DOCKER_BUILDKIT=0 docker build -q -t "$1" "$2" 2>&1 >/dev/null | grep -v -e DEPRECATED -e BuildKit -e environment-variable -e '^$' >&2 || true
  has_image "$1" || die "docker build of $1 failed"
}

# 2a. The runtime layer: binaries and node_modules, rebuilt only when the lock or a binary changes.
RUNTIME_HASH="$( {
  printf '%s\n' "$BASE" "${NODE_MODULES_EXCLUDES[*]}" v1
  sha256sum "$NATS_BIN" "$NODE_BIN" package-lock.json | cut -d' ' -f1
} | sha256sum | cut -c1-12)"
RUNTIME="palisade-runtime:$RUNTIME_HASH"
if has_image "$RUNTIME"; then
  log "runtime image $RUNTIME is there"
else
  CTX="$(mktemp -d /tmp/palisade-runtime-image.XXXXXX)"
  trap 'rm -rf "$CTX"' EXIT
  mkdir -p "$CTX/root/opt/palisade" "$CTX/root/usr/local/bin"
  excludes=()
  for e in "${NODE_MODULES_EXCLUDES[@]}"; do excludes+=(--exclude="./node_modules/$e"); done
  tar -c "${excludes[@]}" ./node_modules | tar -x -C "$CTX/root/opt/palisade"
  cp "$NATS_BIN" "$CTX/root/usr/local/bin/nats-server"
  cp "$NODE_BIN" "$CTX/root/usr/local/bin/node"
  printf 'FROM %s\nCOPY root/ /\nLABEL %s=runtime\n' "$BASE" "$LABEL" >"$CTX/Dockerfile"
  log "building $RUNTIME ($(du -sh "$CTX" | cut -f1): node, nats-server, node_modules)"
  build_quiet "$RUNTIME" "$CTX"
  rm -rf "$CTX"
  trap - EXIT
fi

# 2b. The node image: the repository's own files on top (small, seconds).
NODE_HASH="$( {
  printf '%s\n' "$RUNTIME"
  sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
  # (another build may be replacing dist/ files right now: a vanished file only changes the hash)
  content_list | sort -u | xargs -d '\n' sha256sum 2>/dev/null || true
} | sha256sum | cut -c1-12)"
NODE_IMAGE="palisade-node:$NODE_HASH"
if has_image "$NODE_IMAGE"; then
  log "node image $NODE_IMAGE is there"
else
  CTX="$(mktemp -d /tmp/palisade-node-image.XXXXXX)"
  trap 'rm -rf "$CTX"' EXIT
  mkdir -p "$CTX/app/opt/palisade" "$CTX/app/usr/local/bin"
  content_list | sort -u | tar -c --ignore-failed-read -T - 2>/dev/null | tar -x -C "$CTX/app/opt/palisade"
  ln -s /opt/palisade/packages/cli/bin/palisade.js "$CTX/app/usr/local/bin/palisade"
  ln -s /opt/palisade/services/configd/bin/palisade-configd.js "$CTX/app/usr/local/bin/palisade-configd"
  ln -s /opt/palisade/services/node-agent/bin/palisade-agent.js "$CTX/app/usr/local/bin/palisade-agent"
  if [[ -f services/logger/bin/palisade-logger.js ]]; then
    ln -s /opt/palisade/services/logger/bin/palisade-logger.js "$CTX/app/usr/local/bin/palisade-logger"
  fi
  cat >"$CTX/Dockerfile" <<EOF
FROM $RUNTIME
COPY app/ /
LABEL $LABEL=node
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /opt/palisade
ENTRYPOINT ["/opt/palisade/deploy/docker/node-entrypoint.sh"]
EOF
  log "building $NODE_IMAGE ($(du -sh "$CTX" | cut -f1) of the repository's files)"
  build_quiet "$NODE_IMAGE" "$CTX"
  rm -rf "$CTX"
  trap - EXIT
fi
docker tag "$NODE_IMAGE" palisade-node:latest
# Keep only the current images (the cache is one build, not a history).
docker image ls --filter "label=$LABEL=node" --format '{{.Repository}}:{{.Tag}}' |
  grep -v -e "^$NODE_IMAGE\$" -e '^palisade-node:latest$' -e '<none>' | xargs -r docker image rm >/dev/null 2>&1 || true
docker image ls --filter "label=$LABEL=runtime" --format '{{.Repository}}:{{.Tag}}' |
  grep -v -e "^$RUNTIME\$" -e '<none>' | xargs -r docker image rm >/dev/null 2>&1 || true
docker image ls --filter "label=$LABEL=base" --format '{{.Repository}}:{{.Tag}}' |
  grep -v -e "^$BASE\$" -e '<none>' | xargs -r docker image rm >/dev/null 2>&1 || true
echo "$NODE_IMAGE"
