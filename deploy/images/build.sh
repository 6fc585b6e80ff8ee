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
# build_layer TAG WHAT FILL: unless TAG exists, FILL CONTEXT_DIR writes a build context (its
# Dockerfile included) and TAG is built from it with the classic builder (no BuildKit front-end
# image to pull). The context is removed also when FILL or the build fails.
build_layer() {
  local tag="$1" what="$2" fill="$3"
  if has_image "$tag"; then
    log "$what image $tag is there"
    return 0
  fi
  CTX="$(mktemp -d "/tmp/palisade-$what-image.XXXXXX")"
  trap 'rm -rf "$CTX"' EXIT
  "$fill" "$CTX"
  log "building $tag ($(du -sh "$CTX" | cut -f1))"
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$CTX" 2>&1 >/dev/null | grep -v -e DEPRECATED -e BuildKit -e environment-variable -e '^$' >&2 || true
  rm -rf "$CTX"
  trap - EXIT
  has_image "$tag" || die "docker build of $tag failed"
}

# 2a. The runtime layer: binaries and node_modules, rebuilt only when the lock or a binary changes.
fill_runtime() {
  local ctx="$1" e excludes=()
  mkdir -p "$ctx/root/opt/palisade" "$ctx/root/usr/local/bin"
  for e in "${NODE_MODULES_EXCLUDES[@]}"; do excludes+=(--exclude="./node_modules/$e"); done
  tar -c "${excludes[@]}" ./node_modules | tar -x -C "$ctx/root/opt/palisade"
  cp "$NATS_BIN" "$ctx/root/usr/local/bin/nats-server"
  cp "$NODE_BIN" "$ctx/root/usr/local/bin/node"
  printf 'FROM %s\nCOPY root/ /\nLABEL %s=runtime\n' "$BASE" "$LABEL" >"$ctx/Dockerfile"
}
RUNTIME_HASH="$( {
  printf '%s\n' "$BASE" "${NODE_MODULES_EXCLUDES[*]}" v1
  sha256sum "$NATS_BIN" "$NODE_BIN" package-lock.json | cut -d' ' -f1
} | sha256sum | cut -c1-12)"
RUNTIME="palisade-runtime:$RUNTIME_HASH"
build_layer "$RUNTIME" runtime fill_runtime

# 2b. The node image: the repository's own files on top (small, seconds).
fill_node() {
  local ctx="$1" bin
  mkdir -p "$ctx/app/opt/palisade" "$ctx/app/usr/local/bin"
  content_list | sort -u | tar -c --ignore-failed-read -T - 2>/dev/null | tar -x -C "$ctx/app/opt/palisade"
  for bin in packages/cli/bin/palisade.js services/configd/bin/palisade-configd.js services/node-agent/bin/palisade-agent.js services/logger/bin/palisade-logger.js; do
    ln -s "/opt/palisade/$bin" "$ctx/app/usr/local/bin/$(basename "$bin" .js)"
  done
  cat >"$ctx/Dockerfile" <<EOF
FROM $RUNTIME
COPY app/ /
LABEL $LABEL=node
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /opt/palisade
ENTRYPOINT ["/opt/palisade/deploy/docker/node-entrypoint.sh"]
EOF
}
NODE_HASH="$( {
  printf '%s\n' "$RUNTIME"
  sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
  # (another build may be replacing dist/ files right now: a vanished file only changes the hash)
  content_list | sort -u | xargs -d '\n' sha256sum 2>/dev/null || true
} | sha256sum | cut -c1-12)"
NODE_IMAGE="palisade-node:$NODE_HASH"
build_layer "$NODE_IMAGE" node fill_node
docker tag "$NODE_IMAGE" palisade-node:latest
# Keep only the current images (the cache is one build, not a history).
for kept in "node $NODE_IMAGE" "runtime $RUNTIME" "base $BASE"; do
  read -r kind image <<<"$kept"
  docker image ls --filter "label=$LABEL=$kind" --format '{{.Repository}}:{{.Tag}}' |
    grep -v -e "^$image\$" -e '^palisade-node:latest$' -e '<none>' | xargs -r docker image rm >/dev/null 2>&1 || true
done
echo "$NODE_IMAGE"
