/**
 * Deterministic synthetic log entries for tests and the benchmark: entry `i` of node
 * `pve<1+i%nodes>`, a guest among 50, a source among 5000 addresses, a handful of ports,
 * protocols, actions and rules, with pvefw-logger's packet text.
 */
import type { LogAction, PacketLogEntry } from '@palisade/log-model';

/**
 * Where the synthetic sequence sits in time and over how many nodes it spreads (default 3);
 * `bootId` (default `b0`) keeps the ids of separate runs apart.
 */
export interface SyntheticOptions {
  /** Time of entry 0, µs. */
  readonly startUs: number;
  /** µs between entries. */
  readonly stepUs: number;
  readonly nodes?: number;
  readonly bootId?: string;
}

const PORTS = [22, 80, 443, 3306, 5432, 8006, 53, 123];
const ACTIONS: LogAction[] = ['DROP', 'ACCEPT', 'REJECT', 'DROP'];

/** Synthetic entry number `i`. */
export function syntheticEntry(i: number, o: SyntheticOptions): PacketLogEntry {
  const node = `pve${1 + (i % (o.nodes ?? 3))}`;
  const vmid = 100 + (i % 50);
  const src = `10.${(i >> 16) & 3}.${(i >> 8) % 20}.${i % 250}`;
  const dst = `192.168.${vmid - 100}.10`;
  const dport = PORTS[i % PORTS.length]!;
  const udp = dport === 53 || dport === 123;
  const proto = udp ? 'udp' : 'tcp';
  const action = ACTIONS[i % ACTIONS.length]!;
  const sport = 1024 + (i % 60000);
  const chain = `tap${vmid}i0-IN`;
  const l4 = udp ? `PROTO=UDP SPT=${sport} DPT=${dport} LEN=40` : `PROTO=TCP SPT=${sport} DPT=${dport} SEQ=${i} ACK=0 WINDOW=64240 SYN `;
  return {
    kind: 'packet',
    id: `${node}:${o.bootId ?? 'b0'}:${i}`,
    node,
    timeUs: o.startUs + i * o.stepUs,
    vmid,
    level: 6,
    chain,
    verdict: action,
    action,
    isPolicy: false,
    direction: 'in',
    ruleId: `r${i % 40}`,
    rule: { path: `firewall/${vmid}.fw`, line: 3 + (i % 40), text: `IN ${action} -p ${proto} -dport ${dport} -log info` },
    iif: 'fwbr' + vmid + 'i0',
    physIn: `tap${vmid}i0`,
    mac: 'bc:24:11:aa:bb:cc:bc:24:11:dd:ee:ff:08:00',
    family: 4,
    proto,
    src,
    dst,
    sport,
    dport,
    len: udp ? 60 : 60,
    ...(udp ? {} : { tcpFlags: ['SYN'] }),
    packet: `IN=fwbr${vmid}i0 OUT=fwbr${vmid}i0 PHYSIN=fwln${vmid}i0 PHYSOUT=tap${vmid}i0 MAC=bc:24:11:aa:bb:cc:bc:24:11:dd:ee:ff:08:00 SRC=${src} DST=${dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${i & 0xffff} DF ${l4}`,
  };
}
