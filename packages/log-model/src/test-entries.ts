/** Sample entries for tests of this package and its users. */
import type { LossLogEntry, PacketLogEntry } from './entry.js';

/** A TCP SYN dropped by a host rule, 2025-02-03 09:15:42.123456 UTC. */
export const SAMPLE_PACKET: PacketLogEntry = {
  kind: 'packet',
  id: 'pve1:3f2a:17',
  node: 'pve1',
  timeUs: Date.UTC(2025, 1, 3, 9, 15, 42) * 1000 + 123456,
  vmid: 0,
  level: 6,
  chain: 'PVEFW-HOST-IN',
  verdict: 'DROP',
  action: 'DROP',
  isPolicy: false,
  direction: 'in',
  ruleId: 'r-7c1e',
  rule: { path: 'cluster.fw', line: 12, text: 'IN DROP -p tcp -dport 22 -log info' },
  iif: 'vmbr0',
  mac: 'aa:bb:cc:dd:ee:ff:11:22:33:44:55:66:08:00',
  family: 4,
  proto: 'tcp',
  src: '198.51.100.9',
  dst: '192.0.2.5',
  sport: 40000,
  dport: 22,
  len: 60,
  tcpFlags: ['SYN'],
  packet:
    'IN=vmbr0 MAC=aa:bb:cc:dd:ee:ff:11:22:33:44:55:66:08:00 SRC=198.51.100.9 DST=192.0.2.5 LEN=60 TOS=0x00 PREC=0x00 TTL=51 ID=1234 DF PROTO=TCP SPT=40000 DPT=22 SEQ=1 ACK=0 WINDOW=64240 SYN ',
};

/** 42 entries lost to kernel sequence gaps. */
export const SAMPLE_LOSS: LossLogEntry = {
  kind: 'loss',
  id: 'pve1:3f2a:loss:1',
  node: 'pve1',
  timeUs: Date.UTC(2025, 1, 3, 9, 16, 0) * 1000,
  count: 42,
  fromUs: Date.UTC(2025, 1, 3, 9, 15, 50) * 1000,
  untilUs: Date.UTC(2025, 1, 3, 9, 15, 59) * 1000,
  reason: 'kernel-sequence-gap',
};
