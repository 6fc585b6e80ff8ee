#!/usr/bin/env python3
"""Drives configd's REST listener with Debian's python3-proxmoxer (token auth), one scenario
per firewall scope, and prints what the reads returned as JSON on stdout.

usage: scenario.py HOST PORT USER@REALM TOKENID SECRET SCENARIO
Deterministic: fixed calls, no clock, no randomness.
"""
import json
import sys

import requests
import urllib3
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

HOST, PORT, USER, TOKEN_ID, SECRET, SCENARIO = sys.argv[1:7]
api = ProxmoxAPI(HOST, port=int(PORT), user=USER, token_name=TOKEN_ID, token_value=SECRET, verify_ssl=False, timeout=30)
out = {}
urllib3.disable_warnings()


def refused(fn, method, path, **data):
    """Status and reason of a call that must fail, as proxmoxer reports them, and the body's
    `errors` (proxmoxer 1.2 reads only `data`, so they come from the same call made raw)."""
    try:
        fn()
    except ResourceException as e:
        raw = requests.request(
            method,
            f"https://{HOST}:{PORT}/api2/json/{path}",
            data=data if method in ("POST", "PUT") else None,
            params=data if method in ("GET", "DELETE") else None,
            headers={"Authorization": f"PVEAPIToken={USER}!{TOKEN_ID}={SECRET}"},
            verify=False,
            timeout=30,
        )
        return {"status": e.status_code, "reason": e.content, "errors": raw.json().get("errors")}
    return None


def cluster():
    fw = api.cluster.firewall
    fw.options.put(enable=1, policy_in="DROP")
    fw.aliases.post(name="dns", cidr="192.0.2.53", comment="resolver")
    fw.aliases.post(name="Admin", cidr="10.1.0.0/16")
    fw.ipset.post(name="mgmt", comment="management")
    fw.ipset("mgmt").post(cidr="10.1.2.3")
    fw.ipset("mgmt").post(cidr="10.1.0.77/24", comment="host bits cleared")
    fw.ipset("mgmt").post(cidr="10.1.3.4", nomatch=1)
    fw.rules.post(type="in", action="ACCEPT", proto="tcp", dport="22", source="Admin", enable=1, comment="ssh")
    fw.rules.post(type="in", action="DROP", source="+mgmt", enable=1, pos=5)  # pos is ignored: top
    fw.rules.post(type="out", action="ACCEPT", macro="DNS", dest="dns")  # enable 0 by default
    fw.groups.post(group="web", comment="web tier")
    fw.groups("web").post(type="in", action="ACCEPT", proto="tcp", dport="80,443", enable=1)
    fw.groups.post(group="web", rename="web", comment="front end")  # comment edit
    digest = fw.rules.get()[0]["digest"]
    fw.rules(2).put(moveto=0, digest=digest)  # [out, drop, accept] -> [accept, out, drop]
    fw.rules(1).put(log="info", comment="")  # '' removes the comment
    out["rules"] = fw.rules.get()
    out["rule0"] = fw.rules("0").get()
    out["options"] = fw.options.get()
    out["aliases"] = fw.aliases.get()
    out["groups"] = fw.groups.get()
    out["mgmt"] = fw.ipset("mgmt").get()
    out["stale"] = refused(lambda: fw.rules("0").put(comment="x", digest=digest), "PUT", "cluster/firewall/rules/0", comment="x", digest=digest)
    out["duplicate"] = refused(lambda: fw.ipset("mgmt").post(cidr="10.1.2.3"), "POST", "cluster/firewall/ipset/mgmt", cidr="10.1.2.3")
    out["unknown_field"] = refused(lambda: fw.aliases.post(name="x1", cidr="10.0.0.1", colour="red"), "POST", "cluster/firewall/aliases", name="x1", cidr="10.0.0.1", colour="red")


def host():
    fw = api.nodes("pve1").firewall
    fw.options.put(enable=1, nf_conntrack_max=65536, log_level_in="info")
    fw.rules.post(type="in", action="ACCEPT", macro="SSH", iface="vmbr0", enable=1, comment="ssh")
    fw.rules.post(type="in", action="ACCEPT", proto="tcp", dport="8006", enable=1, comment="gui")
    fw.rules("0").put(delete="comment", source="10.0.0.0/8")
    out["rules"] = fw.rules.get()
    out["options"] = fw.options.get()


def guest():
    fw = api.nodes("pve1").qemu(100).firewall
    fw.options.put(enable=1, dhcp=1, policy_in="DROP")
    fw.aliases.post(name="self", cidr="192.0.2.10")
    fw.ipset.post(name="ipfilter-net0")
    fw.ipset("ipfilter-net0").post(cidr="192.0.2.10")
    fw.rules.post(type="group", action="web", iface="net0", enable=1)
    fw.rules.post(type="in", action="ACCEPT", proto="icmp", **{"icmp-type": "echo-request"}, enable=1)
    fw.rules.post(type="out", action="REJECT", dest="192.0.2.0/24", enable=1)
    fw.rules("0").delete()
    out["rules"] = fw.rules.get()
    out["options"] = fw.options.get()
    out["refs"] = fw.refs.get(type="alias")
    out["forward"] = refused(lambda: fw.rules.post(type="forward", action="ACCEPT"), "POST", "nodes/pve1/qemu/100/firewall/rules", type="forward", action="ACCEPT")
    out["missing_guest"] = refused(lambda: api.nodes("pve1").qemu(999).firewall.rules.get(), "GET", "nodes/pve1/qemu/999/firewall/rules")
    ct = api.nodes("pve1").lxc(200).firewall
    ct.rules.post(type="in", action="ACCEPT", proto="tcp", dport="80", enable=1)
    out["ct_rules"] = ct.rules.get()


def vnet():
    fw = api.cluster.sdn.vnets("vnet1").firewall
    fw.options.put(enable=1, policy_forward="DROP")
    fw.rules.post(type="forward", action="ACCEPT", proto="tcp", dport="443", enable=1)
    fw.rules.post(type="forward", action="DROP", source="10.99.0.0/16", enable=1, log="warning")
    out["rules"] = fw.rules.get()
    out["options"] = fw.options.get()
    out["reject"] = refused(lambda: fw.rules.post(type="forward", action="REJECT"), "POST", "cluster/sdn/vnets/vnet1/firewall/rules", type="forward", action="REJECT")


def ansible():
    """The call sequence of community.proxmox's firewall modules (built on proxmoxer)."""
    fw = api.cluster.firewall
    # proxmox_firewall: list the rules, create the missing ones, move them into place.
    existing = fw.rules.get()
    fw.rules.post(type="in", action="ACCEPT", proto="udp", dport="53", enable=1, comment="ansible dns")
    count = len(fw.rules.get())
    fw.rules("0").put(moveto=count, digest=fw.rules.get()[0]["digest"])  # to the bottom
    # security group: create, then edit its comment through rename
    fw.groups.post(group="ansible", comment="made by ansible")
    fw.groups.post(group="ansible", rename="ansible", comment="edited", digest=fw.groups.get()[0]["digest"])
    # alias: read (ipversion, digest), update with the digest
    alias = fw.aliases("dns").get()
    fw.aliases("dns").put(cidr="192.0.2.54", comment="moved", digest=alias["digest"])
    # IP set: create, fill, rename (no rule uses it), delete with force
    fw.ipset.post(name="ansible_set", comment="made by ansible")
    fw.ipset("ansible_set").post(cidr="198.51.100.0/24")
    fw.ipset.post(name="ansible-renamed", rename="ansible_set", digest=fw.ipset.get()[0]["digest"])
    out["renamed"] = fw.ipset("ansible-renamed").get()
    out["rename_used"] = refused(lambda: fw.ipset.post(name="mgmt2", rename="mgmt"), "POST", "cluster/firewall/ipset", name="mgmt2", rename="mgmt")
    fw.ipset("ansible-renamed").delete(force=1)
    fw.aliases("nothere").delete()  # absent: no error
    out["before"] = len(existing)
    out["rules"] = fw.rules.get()
    out["alias"] = fw.aliases("dns").get()
    out["groups"] = fw.groups.get()
    out["ipsets"] = fw.ipset.get()
    out["no_set"] = refused(lambda: fw.ipset("nothere").get(), "GET", "cluster/firewall/ipset/nothere")


{"cluster": cluster, "host": host, "guest": guest, "vnet": vnet, "ansible": ansible}[SCENARIO]()
json.dump(out, sys.stdout, sort_keys=True)
