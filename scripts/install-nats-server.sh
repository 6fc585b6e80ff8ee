#!/usr/bin/env bash
# Ensures a nats-server binary is available and prints its absolute path on stdout.
#
# Order of preference:
#   1. $NATS_SERVER if set and executable;
#   2. a project-local copy in .cache/nats-server/ (>= 2.10), from an earlier run;
#   3. Debian trixie's nats-server (2.10.x), fetched with `apt-get download` from a trixie source
#      derived from this machine's bookworm apt sources, extracted with dpkg-deb into .cache/;
#   4. nats-server already on PATH;
#   5. bookworm's nats-server (2.9.10) installed with apt-get (needs root).
# Idempotent: a second run only prints the path. Progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PALISADE_CACHE_DIR:-$ROOT/.cache}/nats-server"
LOCAL_BIN="$CACHE/bin/nats-server"

log() { printf 'install-nats-server: %s\n' "$*" >&2; }

version_of() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -1; }
at_least_2_10() {
  local v="$1" major minor
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  [[ -n "$major" && -n "$minor" ]] && { (( major > 2 )) || (( major == 2 && minor >= 10 )); }
}

if [[ -n "${NATS_SERVER:-}" && -x "${NATS_SERVER}" ]]; then
  echo "$NATS_SERVER"; exit 0
fi
if [[ -x "$LOCAL_BIN" ]] && at_least_2_10 "$(version_of "$LOCAL_BIN")"; then
  echo "$LOCAL_BIN"; exit 0
fi

fetch_trixie() {
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || return 1
  # Derive a trixie source from the machine's Debian sources (same mirror URI).
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri="$(awk '/^URIs:/ && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources)"
  fi
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1=="deb" && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)"
  fi
  [[ -n "$uri" ]] || return 1
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -f "$keyring" ]] || return 1
  local work; work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  mkdir -p "$work/sp" "$work/lists/partial" "$work/cache/archives/partial"
  : >"$work/empty.list"
  cat >"$work/sp/trixie.sources" <<SRC
Types: deb
URIs: $uri
Suites: trixie
Components: main
Signed-By: $keyring
SRC
  local opts=(-o "Dir::Etc::SourceList=$work/empty.list" -o "Dir::Etc::SourceParts=$work/sp"
              -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
              -o "APT::Sandbox::User=root")
  log "fetching nats-server from trixie ($uri)"
  apt-get "${opts[@]}" -qq update >&2 || return 1
  (cd "$work" && apt-get "${opts[@]}" -qq download nats-server >&2) || return 1
  local deb; deb="$(ls "$work"/nats-server_*.deb 2>/dev/null | head -1)"
  [[ -n "$deb" ]] || return 1
  dpkg-deb -x "$deb" "$work/x"
  local bin; bin="$(find "$work/x" -type f -name nats-server -perm -u+x | head -1)"
  [[ -n "$bin" ]] || return 1
  mkdir -p "$CACHE/bin"
  cp "$bin" "$LOCAL_BIN.tmp" && mv "$LOCAL_BIN.tmp" "$LOCAL_BIN"
  "$LOCAL_BIN" --version >&2
}

if fetch_trixie && [[ -x "$LOCAL_BIN" ]] && at_least_2_10 "$(version_of "$LOCAL_BIN")"; then
  echo "$LOCAL_BIN"; exit 0
fi
log "trixie package unavailable; falling back"

if command -v nats-server >/dev/null; then
  command -v nats-server; exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  log "installing nats-server from apt (bookworm: 2.9.x, no sync_interval)"
  apt-get -qq update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y nats-server >&2
  command -v nats-server && exit 0
fi
log "no nats-server could be found or installed"
exit 1
