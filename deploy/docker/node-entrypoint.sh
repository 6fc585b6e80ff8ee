#!/usr/bin/env bash
# PID 1 of a Palisade node container: nats-server, configd and node-agent (see node-ctl.sh for
# the environment). The agent applies to the container's own network namespace: the container
# is the node. SIGTERM stops the three in reverse order (the agent leaves its ruleset in force).
set -euo pipefail
CTL=/opt/palisade/deploy/docker/node-ctl.sh
: "${NODE:?NODE must name this node, e.g. pve1}"
# Docker mounts /proc/sys read-only; the agent sets the sysctls its ruleset needs
# (br_netfilter, fwmark_reflect) in this namespace. Needs CAP_SYS_ADMIN; without it the agent
# reports them in status.sysctlFailures.
mount -o remount,rw /proc/sys 2>/dev/null || true
"$CTL" start all
trap '"$CTL" stop all; exit 0' TERM INT
echo "palisade node $NODE started"
# Wait without blocking the trap (bash also reaps the services' orphans as PID 1).
while true; do sleep 3600 & wait $! || true; done
