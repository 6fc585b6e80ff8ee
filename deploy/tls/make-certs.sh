#!/usr/bin/env bash
# Makes what deploy/TLS-AND-TOKENS.md describes: a cluster CA, one certificate per node (server
# and client use; the node's name, address and 127.0.0.1 in subjectAltName) for configd's and
# the logger's gRPC and for the NATS routes, and the access tokens.
#
#   deploy/tls/make-certs.sh OUT pve1=10.10.10.1 pve2=10.10.10.2 pve3=10.10.10.3
#
# OUT/ca.pem, OUT/ca.key (keep the key offline), OUT/tokens (one admin, one agent token per
# node: /etc/palisade/tokens on every node), and per node OUT/<node>/: node.pem, node.key,
# ca.pem (→ /etc/palisade/tls/), route.pem, route.key, route-ca.pem (→ /etc/palisade/nats/),
# agent.token (→ /etc/palisade/agent.token). Refuses to overwrite an existing OUT/ca.key.
set -euo pipefail
OUT="${1:?usage: $0 OUT NODE=IP...}"
shift
(($#)) || { echo "usage: $0 OUT NODE=IP..." >&2; exit 2; }
command -v openssl >/dev/null || { echo "make-certs: openssl is missing (Debian package openssl)" >&2; exit 1; }
[[ -e "$OUT/ca.key" ]] && { echo "make-certs: $OUT/ca.key exists; not overwriting a CA" >&2; exit 1; }
mkdir -p "$OUT"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj "/CN=Palisade cluster CA" -keyout "$OUT/ca.key" -out "$OUT/ca.pem" 2>/dev/null
secret() { openssl rand -hex 32; }
printf 'admin admin %s\n' "$(secret)" >"$OUT/tokens"
for spec in "$@"; do
  node="${spec%%=*}" ip="${spec#*=}"
  [[ "$node" =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ && "$ip" != "$spec" ]] || { echo "make-certs: '$spec' is not NODE=IP" >&2; exit 2; }
  d="$OUT/$node"
  mkdir -p "$d"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$node" \
    -keyout "$d/node.key" -out "$d/node.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,IP:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n' "$node" "$ip" >"$d/ext.cnf"
  openssl x509 -req -in "$d/node.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -CAcreateserial \
    -days 825 -extfile "$d/ext.cnf" -out "$d/node.pem" 2>/dev/null
  rm -f "$d/node.csr" "$d/ext.cnf"
  cp "$d/node.pem" "$d/route.pem"; cp "$d/node.key" "$d/route.key"
  cp "$OUT/ca.pem" "$d/ca.pem"; cp "$OUT/ca.pem" "$d/route-ca.pem"
  token="$(secret)"
  printf 'agent-%s agent %s\n' "$node" "$token" >>"$OUT/tokens"
  printf '%s\n' "$token" >"$d/agent.token"
done
rm -f "$OUT/ca.srl"
echo "make-certs: CA, certificates for $*, tokens in $OUT" >&2
